/**
 * Taking, keeping and giving back a lease on a git remote (see remote-lease.ts). The taker
 * waits while another live holder has it; a holder renews it in the background every third
 * of its time to live, so only a holder that stopped (a dead or cut-off process) loses it.
 */
import { GastownError } from '../errors.js';
import { openObjectWriter } from './open-object-writer.js';
import { readRemoteLease, swapRemoteLease, type LeaseValue, type RemoteLeaseTarget } from './remote-lease.js';

export interface AcquireLeaseOptions extends RemoteLeaseTarget {
  /** Who takes it: unique per process (a replica's id). */
  holder: string;
  /** How long a lease lasts without renewal. */
  ttlMs: number;
  /** How long to wait for a live holder before giving up with `gastown_locked` (default 10 × ttlMs). */
  waitMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Told each time the taker finds the lease held by someone else and waits. */
  onWait?: (held: LeaseValue) => void;
  /** Told when a renewal fails or finds the lease taken over. */
  onRenewalProblem?: (problem: string) => void;
}

export interface HeldLease {
  readonly holder: string;
  /** The holder whose expired lease this one replaced, or null. */
  readonly tookOverFrom: string | null;
  /** False once a renewal found the lease with someone else (this holder was taken for dead). */
  held(): boolean;
  /** Stops renewing and deletes the lease on the remote (by compare-and-swap: a successor's lease stays). */
  release(): Promise<void>;
}

const POLL_FIRST_MS = 25;
const POLL_MAX_MS = 500;

export async function acquireRemoteLease(given: AcquireLeaseOptions): Promise<HeldLease> {
  // Its takes and renewals write into one object store: found once for the lease's life when the caller keeps none.
  const opts = given.objects ? given : { ...given, objects: await openObjectWriter(given.gitDir) };
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + (opts.waitMs ?? opts.ttlMs * 10);
  const value = (): LeaseValue => ({ holder: opts.holder, expiresAt: new Date(now() + opts.ttlMs).toISOString() });
  let delay = POLL_FIRST_MS;
  // A lease given back is deleted, so the usual case is no lease at all: try "create if
  // absent" first, which is one push, and read what is there only when that is refused.
  const created = await swapRemoteLease(opts, null, value());
  if (created) return keep(opts, created, null, value, now);
  for (;;) {
    const current = await readRemoteLease(opts);
    const other = current?.value && current.value.holder !== opts.holder ? current.value : null;
    const live = other !== null && Date.parse(other.expiresAt) > now();
    if (!live) {
      const oid = await swapRemoteLease(opts, current?.oid ?? null, value());
      if (oid) return keep(opts, oid, other?.holder ?? null, value, now);
      continue; // Someone moved it between our read and our push: read again at once.
    }
    if (now() >= deadline)
      throw new GastownError('gastown_locked', `${opts.ref} is held by ${other.holder} until ${other.expiresAt}; gave up waiting`, {
        ref: opts.ref,
        holder: other.holder,
      });
    opts.onWait?.(other);
    // Poll soon (a unit of work is short), but no later than the moment it would expire.
    await sleep(Math.max(1, Math.min(delay, Date.parse(other.expiresAt) - now() + 1)));
    delay = Math.min(POLL_MAX_MS, Math.round(delay * 1.5));
  }
}

function keep(
  opts: AcquireLeaseOptions,
  first: string,
  tookOverFrom: string | null,
  value: () => LeaseValue,
  now: () => number,
): HeldLease {
  let oid = first;
  let held = true;
  let expiresAt = now() + opts.ttlMs;
  let busy: Promise<void> = Promise.resolve();
  const renew = async () => {
    if (!held) return;
    try {
      const next = value();
      const moved = await swapRemoteLease(opts, oid, next);
      if (moved) {
        oid = moved;
        expiresAt = Date.parse(next.expiresAt);
      } else {
        held = false;
        opts.onRenewalProblem?.('the lease was taken over by another holder');
      }
    } catch (err) {
      // A failed renewal is retried at the next tick; past the expiry the lease is as good as gone.
      if (now() >= expiresAt) held = false;
      opts.onRenewalProblem?.((err as Error).message);
    }
    if (!held) clearInterval(timer);
  };
  const timer = setInterval(
    () => {
      busy = busy.then(renew);
    },
    Math.max(10, Math.floor(opts.ttlMs / 3)),
  );
  timer.unref();
  return {
    holder: opts.holder,
    tookOverFrom,
    held: () => held && now() < expiresAt,
    async release() {
      clearInterval(timer);
      await busy;
      if (!held) return;
      held = false;
      await swapRemoteLease(opts, oid, null);
    },
  };
}
