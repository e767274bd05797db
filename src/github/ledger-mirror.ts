/**
 * The app's copy of each repository's ledger: a bare git repository at
 * `<dataDir>/<owner>/<repo>.git` (created on first use), opened as a `Rig`, synced with the
 * repository itself over git with the installation token.
 *
 * `withRepoLedger` runs one unit of work per repository at a time across every replica of
 * the app: inside this process a promise chain per repository, across processes the
 * repository's lease on the remote (`refs/gastown-leases/app`, see ledger/remote-lease.ts),
 * taken by compare-and-swap before the first sync and given back after the last, so a
 * replica reads the ledger only after the previous holder's writes reached the remote. A
 * replica that dies holding it stops renewing it; once it expires the next one takes it.
 * The lease passes from one queued unit to the next in this process without a round trip.
 * The token is put into the remote URL for each git call only: it is never written to git
 * config, to disk or to a log.
 */
import { hostname } from 'node:os';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { GastownError } from '../errors.js';
import { acquireRemoteLease, type HeldLease } from '../ledger/acquire-remote-lease.js';
import type { ObjectWriter } from '../ledger/git-objects.js';
import { openObjectWriter } from '../ledger/open-object-writer.js';
import { leaseRefFor } from '../ledger/remote-lease.js';
import { redact, runGit } from '../ledger/run-git.js';
import { SmartHttp } from '../ledger/smart-http.js';
import { randomHex } from '../random-hex.js';
import { syncRig } from '../rig/sync-rig.js';
import { Rig } from '../rig/rig.js';

export interface LedgerMirrorsOptions {
  /** Where the bare mirrors live (GASTOWN_DATA_DIR). */
  dataDir: string;
  /** Remote URL with `{token}`, `{owner}`, `{repo}` placeholders (GASTOWN_GIT_URL). */
  gitUrlTemplate: string;
  now?: () => Date;
  /** This replica's name on the leases it holds (default: host, pid and a random part). */
  replicaId?: string;
  /** How long a repository's lease lasts without renewal (GASTOWN_LEASE_TTL_MS; default 60 s). */
  leaseTtlMs?: number;
  /** How long a unit of work waits for another replica's lease before it fails (default 10 × leaseTtlMs). */
  leaseWaitMs?: number;
  /**
   * How long the lease is kept after the last queued unit of work, for the next one
   * (default 1 s; 0 gives it back at once). Webhooks come in bursts (a merge, its issue
   * closed, the next wave's runs reporting), and each unit that finds the lease still held
   * saves a push to take it and one to give it back. Never past a third of the lease time
   * since it was taken, so a replica that keeps getting work still hands it over.
   */
  leaseLingerMs?: number;
  /** How long the mirrors' syncs follow the writers' summaries between full comparisons (see SyncOptions.fullEveryMs). */
  syncFullEveryMs?: number;
}

export interface RepoLedgerVisit {
  /**
   * False for work that changes nothing outside the ledger (a read, such as the token
   * exchange's check of a run): it runs without the repository's lease, which keeps
   * replicas' outside writes apart, and only syncs. Default true.
   */
  lease?: boolean;
  /**
   * False: when another replica holds the repository's lease, fail at once with
   * `gastown_locked` instead of waiting for it (the Deacon's timer skips that tick). Default true.
   */
  waitForLease?: boolean;
  /**
   * From `LedgerMirrors.point()`, taken when the work's cause arrived: what the work must see
   * had reached the remote by then, so a sync that began after that point is enough (default:
   * the moment the work is asked for). Work that first asks GitHub for a while (the token
   * exchange) thereby shares a sync with work of the same burst that arrived after it.
   */
  since?: number;
}

/** The lease one replica holds on a repository while it works on that repository's ledger. */
export const REPO_LEASE = 'app';
const DEFAULT_LEASE_TTL_MS = 60_000;
const DEFAULT_LEASE_LINGER_MS = 1000;

export interface RepoLedgerScope {
  owner: string;
  repo: string;
  /** Ledger ref prefix from the repo config (`ledgerPrefix`). */
  prefix: string;
  /** Who is acting: recorded on every write (the app, or the person who asked). */
  actor: string;
  /** The installation token, asked for before each sync; only called when the URL template needs it. */
  token(): Promise<string>;
  log?: Logger;
}

export interface RepoLedgerSession {
  rig: Rig;
  /** Fetches, merges and pushes now (e.g. right after recording a plan, before any forge write). */
  sync(): Promise<void>;
  /** This replica's id (what the repository's lease names while it holds it). */
  replica: string;
  /** False once this replica's lease on the repository was taken over (it was taken for dead): stop outside writes. */
  leaseHeld(): boolean;
}

const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

interface LeaseSlot {
  /** Units of work of this process queued for the lease or running under it. */
  queued: number;
  lease: Promise<HeldLease> | null;
  takenAt: number;
  /** The timer that gives the lease back once no unit came for it. */
  linger: ReturnType<typeof setTimeout> | null;
  /** Where a failure to give it back is told (the last unit's logger). */
  log: Logger | undefined;
}

export class LedgerMirrors {
  readonly #options: LedgerMirrorsOptions;
  readonly #chains = new Map<string, Promise<unknown>>();
  readonly #rigs = new Map<string, { prefix: string; rig: Promise<Rig> }>();
  /**
   * Per mirror, the logger of the work now running on it (work on one repository runs one
   * at a time): where its rig reports ledger entities a read left out.
   */
  readonly #logs = new Map<string, { log?: Logger }>();
  /** Per mirror, the units of work queued or running in this process, and the lease they share. */
  readonly #leases = new Map<string, LeaseSlot>();
  /**
   * Per mirror, the last sync that succeeded: its place in `#ticks`, and the lease held
   * while it ran. A unit asked for after that sync began needs a sync of its own (what
   * caused its webhook may have reached the remote just before); one asked for before it,
   * under the same lease, would only read again what that sync read (see `#run`).
   */
  readonly #lastSync = new Map<string, { tick: number; lease: HeldLease | null }>();
  /** Per mirror, its ledger's write count at the last sync that succeeded: writes since then are not pushed yet. */
  readonly #pushed = new Map<string, { ledger: unknown; writes: number }>();
  /** Per mirror, the ledger prefix of each unit of work queued and not yet started, in order. */
  readonly #waiting = new Map<string, string[]>();
  /** Orders units of work and syncs: one count for every mirror. */
  #ticks = 0;
  /** Per mirror, a lease being given back: the next take waits for it (it would only find it still there). */
  readonly #releasing = new Map<string, Promise<void>>();
  /** Units of work waiting for a repository's lease, not yet queued on its mirror. */
  readonly #taking = new Set<Promise<void>>();
  /**
   * The mirrors' reads over HTTP in-process (ledger/smart-http.ts): a sync on a webhook then
   * starts a git process only to push. It keeps each remote's capabilities, so it lives as
   * long as the mirrors do.
   */
  readonly #http = new SmartHttp();
  /** Per mirror, the writer of its lease commits (found once per mirror, not once per take). */
  readonly #leaseObjects = new Map<string, Promise<ObjectWriter>>();
  readonly replicaId: string;

  constructor(options: LedgerMirrorsOptions) {
    this.#options = options;
    this.replicaId = options.replicaId ?? `${hostname()}-${process.pid}-${randomHex(4)}`;
  }

  /** A point in this process's order of work and syncs (see `RepoLedgerVisit.since`). */
  point(): number {
    return ++this.#ticks;
  }

  /** The bare mirror's path for a repository. */
  pathFor(owner: string, repo: string): string {
    if (!NAME.test(owner) || !NAME.test(repo) || owner.startsWith('.') || repo.startsWith('.')) {
      throw new GastownError('gastown_bad_input', `not a repository name: ${JSON.stringify(`${owner}/${repo}`)}`);
    }
    return join(this.#options.dataDir, owner.toLowerCase(), `${repo.toLowerCase()}.git`);
  }

  /** The remote URL for one sync (holds the token: pass it to git, never log it unredacted). */
  async remoteUrl(scope: RepoLedgerScope): Promise<string> {
    const token = this.#options.gitUrlTemplate.includes('{token}') ? await scope.token() : '';
    return this.#fill(scope, encodeURIComponent(token));
  }

  #fill(scope: RepoLedgerScope, token: string): string {
    return this.#options.gitUrlTemplate
      .replace(/\{token\}/g, token)
      .replace(/\{owner\}/g, encodeURIComponent(scope.owner))
      .replace(/\{repo\}/g, encodeURIComponent(scope.repo));
  }

  /**
   * Runs `fn` with the repository's rig: after earlier work on the same repository in this
   * process, with the ledger synced before (fetch, merge) and after (push, also when `fn`
   * throws, so a recorded failure reaches the remote).
   */
  withRepoLedger<T>(scope: RepoLedgerScope, fn: (session: RepoLedgerSession) => Promise<T>, visit: RepoLedgerVisit = {}): Promise<T> {
    const key = this.pathFor(scope.owner, scope.repo);
    const asked = Math.min(visit.since ?? Number.POSITIVE_INFINITY, ++this.#ticks);
    if (visit.lease === false) return this.#join(key, scope.prefix, () => this.#run(key, scope, fn, asked, null, () => true));
    const slot = this.#leaseSlot(key);
    slot.queued += 1;
    // The lease is taken (waiting out another replica's) before the unit joins this process's
    // queue for the repository: a read, which needs no lease, must not wait behind work that
    // waits for one (a polecat's token exchange behind a webhook, for up to ten lease times).
    const taking = this.#takeLease(key, scope, slot, visit.waitForLease ?? true);
    this.#taking.add(taking);
    const settle = () => this.#taking.delete(taking);
    return taking.then(
      () => {
        settle();
        return this.#join(key, scope.prefix, () => this.#leased(key, scope, fn, asked, visit.waitForLease ?? true));
      },
      async (err: unknown) => {
        settle();
        await this.#unitDone(key, slot);
        throw err;
      },
    );
  }

  /** Runs `work` after the work queued before it on this mirror in this process (reads and leased units alike). */
  #join<T>(key: string, prefix: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const waiting = this.#waiting.get(key) ?? [];
    this.#waiting.set(key, [...waiting, prefix]);
    const run = previous.then(work, work);
    const settled = run.catch(() => undefined);
    this.#chains.set(key, settled);
    void settled.then(() => {
      if (this.#chains.get(key) === settled) this.#chains.delete(key);
    });
    return run;
  }

  /** Waits for queued work, then stops every rig's long-lived git processes. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#taking]);
    await Promise.all([...this.#chains.values()]);
    // Leases kept for a next unit that will not come now: given back, not left to expire.
    await Promise.all([...this.#leases.keys()].map((key) => this.#giveBack(key)));
    const rigs = [...this.#rigs.values()];
    this.#rigs.clear();
    for (const entry of rigs) {
      try {
        (await entry.rig).close();
      } catch {
        // A rig that never opened has nothing to close.
      }
    }
  }

  #leaseSlot(key: string): LeaseSlot {
    let slot = this.#leases.get(key);
    if (!slot) this.#leases.set(key, (slot = { queued: 0, lease: null, takenAt: 0, linger: null, log: undefined }));
    if (slot.linger) {
      // The next unit came while the lease was kept for it.
      clearTimeout(slot.linger);
      slot.linger = null;
    }
    return slot;
  }

  /**
   * One unit of work under the repository's lease: taken (waiting out another replica's)
   * unless the unit before it in this process still holds it, and given back when no other
   * unit of this process has come for it within `leaseLingerMs`.
   */
  async #leased<T>(
    key: string,
    scope: RepoLedgerScope,
    fn: (session: RepoLedgerSession) => Promise<T>,
    asked: number,
    wait: boolean,
  ): Promise<T> {
    const slot = this.#leaseSlot(key);
    try {
      // Taken before the unit was queued; lapsed (or taken over) while it waited: taken anew,
      // as units asking meanwhile would.
      await this.#takeLease(key, scope, slot, wait);
      const lease = await slot.lease!;
      slot.log = scope.log;
      // Its push may be left to the next unit only while that one holds the lease too.
      return await this.#run(key, scope, fn, asked, lease, () => slot.queued > 1);
    } finally {
      await this.#unitDone(key, slot);
    }
  }

  /**
   * The lease for a unit about to join the queue: the one this process holds, else taken now
   * (once for all units asking meanwhile). A lease that lapses while the unit waits in the
   * queue is taken anew when it runs (`#leased`).
   */
  async #takeLease(key: string, scope: RepoLedgerScope, slot: LeaseSlot, wait: boolean): Promise<void> {
    const current = slot.lease;
    if (current) {
      const lease = await current.catch(() => null);
      if (lease?.held()) return;
      // Another unit asking meanwhile has already taken it anew: share that. (A take that gave
      // up without waiting, the Deacon's, leaves a rejected promise here: a unit that waits takes anew.)
      if (slot.lease !== current) return this.#takeLease(key, scope, slot, wait);
      // Lapsed (or taken over): stop its renewals, free it if still ours, take it anew.
      const stale = lease;
      slot.lease = stale
        ? stale
            .release()
            .catch(() => undefined)
            .then(() => this.#acquire(key, scope, wait))
        : this.#acquire(key, scope, wait);
    } else slot.lease = this.#acquire(key, scope, wait);
    slot.takenAt = Date.now();
    await slot.lease;
  }

  /** One unit of work under the lease is over: the lease is kept for the next within `leaseLingerMs`, else given back. */
  async #unitDone(key: string, slot: LeaseSlot): Promise<void> {
    slot.queued -= 1;
    if (slot.queued !== 0) return;
    const ttlMs = this.#options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    const lingerMs = this.#options.leaseLingerMs ?? DEFAULT_LEASE_LINGER_MS;
    if (lingerMs > 0 && slot.lease && Date.now() - slot.takenAt + lingerMs < ttlMs / 3) {
      slot.linger = setTimeout(() => {
        slot.linger = null;
        if (slot.queued === 0) void this.#giveBack(key);
      }, lingerMs);
      slot.linger.unref();
    } else await this.#giveBack(key);
  }

  /** Gives the repository's lease back now, unless units of work have come for it meanwhile. */
  async #giveBack(key: string): Promise<void> {
    const slot = this.#leases.get(key);
    if (!slot || slot.queued > 0) return;
    if (slot.linger) clearTimeout(slot.linger);
    this.#leases.delete(key);
    const lease = slot.lease;
    if (!lease) return;
    const release = lease.then(
      (l) =>
        l
          .release()
          .catch((err: unknown) =>
            slot.log?.warn({ err: { message: (err as Error).message } }, 'Could not give back the repository lease; it expires by itself'),
          ),
      () => undefined,
    );
    this.#releasing.set(key, release);
    await release;
    if (this.#releasing.get(key) === release) this.#releasing.delete(key);
  }

  async #acquire(key: string, scope: RepoLedgerScope, wait: boolean): Promise<HeldLease> {
    await this.#releasing.get(key);
    await this.#rig(key, scope.prefix);
    const ttlMs = this.#options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    let waited = false;
    const shown = redact(this.#fill(scope, '***'));
    let lastUrl = '';
    const url = async () => (lastUrl = await this.remoteUrl(scope));
    let objects = this.#leaseObjects.get(key);
    if (!objects) {
      this.#leaseObjects.set(key, (objects = openObjectWriter(key)));
      objects.catch(() => this.#leaseObjects.delete(key));
    }
    const lease = await objects
      .then((o) =>
        acquireRemoteLease({
          gitDir: key,
          objects: o,
          http: this.#http,
          url,
          ref: leaseRefFor(scope.prefix, REPO_LEASE),
          holder: this.replicaId,
          ttlMs,
          ...(!wait ? { waitMs: 0 } : this.#options.leaseWaitMs !== undefined ? { waitMs: this.#options.leaseWaitMs } : {}),
          onWait: (held) => {
            if (!waited)
              scope.log?.info({ holder: held.holder, until: held.expiresAt }, 'Waiting for another replica to finish with this repository');
            waited = true;
          },
          onRenewalProblem: (problem) =>
            void this.#scrubbed(scope, lastUrl, problem).then((e) =>
              scope.log?.warn({ problem: e.message }, 'Could not renew the repository lease'),
            ),
        }),
      )
      .catch(async (err: unknown) => {
        throw await this.#scrubbed(scope, lastUrl, `Cannot take the repository lease on ${shown}: ${(err as Error).message}`, err);
      });
    if (lease.tookOverFrom)
      scope.log?.warn({ from: lease.tookOverFrom }, 'Took over the repository lease of a replica that stopped renewing it');
    return lease;
  }

  async #run<T>(
    key: string,
    scope: RepoLedgerScope,
    fn: (session: RepoLedgerSession) => Promise<T>,
    asked: number,
    lease: HeldLease | null,
    pushLater: () => boolean,
  ): Promise<T> {
    const leaseHeld = () => lease === null || lease.held();
    const queue = this.#waiting.get(key) ?? [];
    queue.shift();
    if (queue.length === 0) this.#waiting.delete(key);
    this.#logSink(key).log = scope.log;
    const rig = (await this.#rig(key, scope.prefix)).withActor(scope.actor);
    const shown = redact(this.#fill(scope, '***'));
    // Writes the mirror held at the last sync: work that wrote nothing has nothing to push,
    // and what others pushed meanwhile reaches this mirror at the next visit's first sync.
    // (Per mirror, not per unit: a unit may leave its push to the next one, see below.)
    const synced = () => {
      const last = this.#pushed.get(key);
      return last?.ledger === rig.ledger ? last.writes : -1;
    };
    const sync = async (): Promise<void> => {
      const tick = ++this.#ticks;
      const url = await this.remoteUrl(scope);
      let result;
      try {
        result = await syncRig(rig, url, { fullEveryMs: this.#options.syncFullEveryMs, http: this.#http });
      } catch (err) {
        throw await this.#scrubbed(scope, url, `Cannot sync the ledger with ${shown}: ${(err as Error).message}`);
      }
      this.#pushed.set(key, { ledger: rig.ledger, writes: rig.ledger.writes });
      this.#lastSync.set(key, { tick, lease });
      scope.log?.debug({ remote: shown, ...result }, 'Synced the ledger');
      if (result.refused.length)
        scope.log?.warn({ remote: shown, refused: result.refused.slice(0, 10) }, 'Sync left out ledger values that do not validate');
    };
    // The first sync brings what others pushed. A sync that began after this unit was asked
    // for already brought all of that (what caused the unit, a webhook, reached the remote
    // before it): for a unit under the lease, when that sync ran under the very same lease,
    // held since; for a unit that needs no lease, any such sync.
    const last = this.#lastSync.get(key);
    if (last && last.tick > asked && (lease === null || last.lease === lease)) {
      scope.log?.debug({ remote: shown }, 'The ledger was synced after this work was asked for');
    } else await sync();
    let result: T;
    try {
      result = await fn({ rig, sync, replica: this.replicaId, leaseHeld });
    } catch (err) {
      if (rig.ledger.writes !== synced())
        await sync().catch((syncErr: unknown) =>
          scope.log?.warn({ code: (syncErr as { code?: string }).code }, 'Could not push the ledger after a failure'),
        );
      throw err;
    }
    if (rig.ledger.writes === synced()) return result;
    // Work on this mirror is queued behind this unit, on the same ledger: its syncs (the
    // first, unless skipped because a sync began after it was asked for, or the last) push
    // what this unit wrote, with what it writes, in one round trip. The lease stays held
    // until then (a unit under it leaves its push only to another unit under it). The last
    // unit of a burst always pushes before it returns.
    const next = this.#waiting.get(key);
    if (next?.length && next.every((prefix) => prefix === scope.prefix) && pushLater()) {
      scope.log?.debug({ queued: next.length }, 'Leaving the push to the work queued next');
      return result;
    }
    try {
      await sync();
    } catch (err) {
      // The work is done and recorded in the mirror; the next delivery pushes it.
      scope.log?.warn({ code: (err as { code?: string }).code }, 'Could not push the ledger; the next sync will');
    }
    return result;
  }

  /**
   * A `gastown_sync` error whose message names the remote without its token: the URL may
   * hold it where `redact` does not look (a custom template), and the cause (with git's own
   * output) is left behind. A lease that is merely busy keeps its own error.
   */
  async #scrubbed(scope: RepoLedgerScope, url: string, message: string, cause?: unknown): Promise<GastownError> {
    if ((cause as { code?: string } | undefined)?.code === 'gastown_locked') return cause as GastownError;
    const shown = redact(this.#fill(scope, '***'));
    const token = this.#options.gitUrlTemplate.includes('{token}') ? encodeURIComponent(await scope.token()) : null;
    const scrub = (text: string) => (token ? text.split(token).join('***') : text).split(url || '\u0000').join(shown);
    return new GastownError('gastown_sync', scrub(message), { remote: shown });
  }

  #logSink(key: string): { log?: Logger } {
    let sink = this.#logs.get(key);
    if (!sink) this.#logs.set(key, (sink = {}));
    return sink;
  }

  #rig(key: string, prefix: string): Promise<Rig> {
    const cached = this.#rigs.get(key);
    if (cached && cached.prefix === prefix) return cached.rig;
    if (cached)
      void cached.rig.then(
        (r) => r.close(),
        () => undefined,
      );
    const sink = this.#logSink(key);
    const rig = openMirror(key, prefix, this.#options.now, (ref, problem) =>
      sink.log?.warn({ ref, problem }, 'Skipped a ledger entity that does not validate (see gt doctor)'),
    );
    this.#rigs.set(key, { prefix, rig });
    rig.catch(() => {
      if (this.#rigs.get(key)?.rig === rig) this.#rigs.delete(key);
    });
    return rig;
  }
}

async function openMirror(
  path: string,
  prefix: string,
  now: (() => Date) | undefined,
  onInvalid: (ref: string, problem: string) => void,
): Promise<Rig> {
  mkdirSync(path, { recursive: true });
  await runGit(['init', '--quiet', '--bare', path], { cwd: path });
  return Rig.open({
    repoDir: path,
    actor: 'gastown[bot]',
    allowUninitialised: true,
    settings: { prefix },
    ...(now ? { now } : {}),
    onInvalid,
  });
}
