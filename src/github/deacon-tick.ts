/**
 * The Deacon on a timer: every `GASTOWN_DEACON_EVERY_MS` the app runs, on each repository it
 * has mirrored and whose mirror holds an active convoy, the dispatch pass a webhook runs
 * (github/deacon-visit.ts): the Deacon's stall pass, the recovery of dispatches lost by a
 * replica that died between its mark and its call, and the dispatch of ready beads. Without
 * it those run only when a webhook for the repository arrives, and a polecat run that died
 * silently or a replica that died mid-dispatch could leave a convoy stalled for ever.
 *
 * One tick at a time: the next is scheduled when the last one ended, so a slow tick delays
 * the next rather than overlapping it. The timer never keeps the process alive (`unref`),
 * and `stop` waits for a tick in progress (the app's `close` calls it before closing the
 * mirrors). Several replicas: each ticks; the repository's lease keeps their passes apart,
 * and a tick that finds it held elsewhere skips that repository until the next tick.
 */
import type { Logger } from 'pino';
import { isGastownError } from '../errors.js';
import type { KnownRepository } from './known-repositories.js';

/** What one repository's pass did: ran, or skipped because another replica held its lease. */
export type DeaconVisitResult = 'done' | 'busy';

export interface DeaconTickOptions {
  repositories(): readonly KnownRepository[];
  /** Whether this replica's mirror of the repository holds an active convoy: read locally, nothing asked of GitHub. */
  hasActiveConvoy(entry: KnownRepository): Promise<boolean>;
  /** One dispatch pass on the repository, under its lease (not waited for). */
  visit(entry: KnownRepository): Promise<DeaconVisitResult>;
  log: Pick<Logger, 'info' | 'warn' | 'debug'>;
}

export interface DeaconTickResult {
  known: number;
  active: number;
  visited: number;
  busy: number;
  failed: number;
}

/** One tick over every known repository; never throws (a repository's failure is logged, the others go on). */
export async function deaconTick(opts: DeaconTickOptions): Promise<DeaconTickResult> {
  const repos = opts.repositories();
  const out: DeaconTickResult = { known: repos.length, active: 0, visited: 0, busy: 0, failed: 0 };
  for (const entry of repos) {
    const repo = `${entry.owner}/${entry.repo}`;
    try {
      if (!(await opts.hasActiveConvoy(entry))) continue;
      out.active += 1;
      if ((await opts.visit(entry)) === 'busy') {
        out.busy += 1;
        opts.log.debug({ repo }, 'Deacon tick: another replica holds this repository; skipped until the next tick');
      } else out.visited += 1;
    } catch (err) {
      out.failed += 1;
      opts.log.warn({ repo, ...tickError(err) }, 'Deacon tick: the pass on a repository failed');
    }
  }
  // A line per tick that acted; a quiet one at debug (every few minutes per replica otherwise).
  const level = out.visited + out.failed > 0 ? 'info' : 'debug';
  opts.log[level]({ ...out }, 'Deacon tick');
  return out;
}

export interface DeaconTimer {
  /** Stops ticking; resolves once a tick in progress has ended. */
  stop(): Promise<void>;
}

/** Runs `tick` every `everyMs` (after the previous one ended), on an unref'd timer. */
export function startDeaconTimer(everyMs: number, tick: () => Promise<unknown>, log: Pick<Logger, 'warn'>): DeaconTimer {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      running = tick()
        .then(
          () => undefined,
          (err: unknown) => log.warn(tickError(err), 'Deacon tick failed'),
        )
        .finally(() => {
          running = null;
          schedule();
        });
    }, everyMs);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}

/**
 * One log line's worth of an error, without anything that could carry a token: our coded
 * errors' messages (a sync error names the remote with its token scrubbed), GitHub's status,
 * else only the error's kind (as `describeError` does for a delivery).
 */
function tickError(err: unknown): { code: string; message: string } {
  if (isGastownError(err)) return { code: err.code, message: err.message.split('\n')[0]! };
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number') return { code: 'gastown_forge', message: `A GitHub request failed (HTTP ${status}).` };
  return {
    code: 'gastown_internal',
    message: `An unexpected ${(err as Error)?.name ?? 'error'} stopped the pass (its text is not logged).`,
  };
}
