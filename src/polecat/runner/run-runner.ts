import { hostname } from 'node:os';
import { join } from 'node:path';
import { GastownError, isGastownError } from '../../errors.js';
import type { ForgePort } from '../../forge/forge-port.js';
import { refineryPass, type RefineryPassResult } from '../../refinery/refinery-pass.js';
import { estopState } from '../../rig/estop.js';
import type { Rig } from '../../rig/rig.js';
import { claimBead, dispatchReady, failBead, isLeaseLost, workLeft, type Claim } from '../../rig/work.js';
import { requireSandbox } from '../sandbox/detect-sandbox.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { AgentFactory } from './agent-from-settings.js';
import { packageHooksDir } from './hooks-dir.js';
import { createProgressBoard, type ProgressBoard } from './progress-board.js';
import { pathsToHide, rigRemote } from './rig-remote.js';
import { workBead, type WorkOutcome } from './work-bead.js';
import { claimOnRemote } from './publish-claim.js';
import type { StopCheck } from './stop-check.js';
import { remoteQueue, type TownLinkOptions } from './town-link.js';
import { syncRig } from '../../rig/sync-rig.js';

export interface RunRunnerOptions {
  rig: Rig;
  agentFactory: AgentFactory;
  /** Beads this runner works at once. Default settings.concurrency. */
  concurrency?: number;
  /** Work one bead (and, locally, merge it), then exit. */
  once?: boolean;
  /** Only this bead (the GitHub workflow runs one runner per bead). */
  bead?: string;
  /** Exit when nothing is ready, hooked, running or queued for the Refinery. */
  untilIdle?: boolean;
  signal?: AbortSignal;
  /** Per-polecat progress lines and notes. */
  progress?: ProgressBoard;
  /** Plain progress lines, when no board is given (default: silent). */
  log?: (line: string) => void;
  /** With a GitHub forge polecats open PRs; without one (or local) the Refinery merges here. */
  forge?: ForgePort | null;
  /** Sling ready beads before claiming (default true). */
  dispatch?: boolean;
  /** Run the local Refinery in this process (default: when there is no GitHub forge). */
  refinery?: boolean;
  runnerId?: string;
  workspaceRoot?: string;
  hooksDir?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Where agents run. Default: bubblewrap, and a `gastown_config` error before any bead is
   * claimed when it cannot run here. `createNoSandbox()` only for an explicit --no-sandbox.
   */
  sandbox?: Sandbox;
  draft?: boolean;
  pollMs?: number;
  keepWorkspaces?: boolean;
  /** Overrides settings.syncMs (how often the ledger is synced with its remote; 0: never). */
  syncMs?: number;
  /** Overrides the stop check (stop-check.ts shouldStop). */
  stopCheck?: StopCheck;
}

export interface RunnerSummary {
  runner: string;
  outcomes: { bead: string; polecat: string; outcome: WorkOutcome | 'error' }[];
  merged: string[];
  landed: string[];
  sentBack: string[];
  failed: string[];
}

/**
 * A polecat runner, like an Actions runner for beads. Each round:
 * 1. sling ready beads up to the rig's concurrency cap (when this runner dispatches);
 * 2. claim hooked (or abandoned) beads up to this runner's concurrency and work each one;
 * 3. without a forge, run a pass of the local Refinery alongside;
 * 4. wait for a polecat or the Refinery to finish, or a short poll.
 * Stops on `signal` (beads in hand are released), after one bead with `once`, or when the
 * town is idle with `untilIdle`.
 */
export async function runRunner(opts: RunRunnerOptions): Promise<RunnerSummary> {
  const { rig } = opts;
  const runner = opts.runnerId ?? `${hostname().split('.')[0] || 'host'}-${process.pid}`;
  const concurrency = opts.concurrency ?? rig.settings.concurrency;
  const board = opts.progress ?? (opts.log ? createProgressBoard(lineWriter(opts.log)) : createProgressBoard(process.stderr, true));
  const forge = opts.forge ?? null;
  const useRefinery = opts.refinery ?? !forge?.hostsPullRequests;
  const remote = await rigRemote(rig);
  const hooksDir = opts.hooksDir ?? packageHooksDir();
  const env = opts.env ?? process.env;
  const sandbox = opts.sandbox ?? (await requireSandbox(env));
  // The user sandbox runs commands only in its own workspaces, and the gate's is a worktree of the rig.
  if (!sandbox.runsInRigWorktrees && useRefinery)
    throw new GastownError(
      'gastown_config',
      "the local Refinery's gate needs bubblewrap, not the user sandbox: run with a forge or --no-refinery",
    );
  // The built-in agent's file tools run here, as root under the user sandbox, and check a path
  // before they open it: a process the agent left running (bwrap leaves none) could swap a
  // directory for a symlink in between and have root write through it.
  if (!sandbox.runnerToolsSafe && opts.agentFactory('gastown-probe').toolsInRunner)
    throw new GastownError(
      'gastown_config',
      'the built-in agent needs bubblewrap, not the user sandbox (its file tools run as the runner and could be raced by a process the agent left running): use the script or command agent',
    );
  const workspaceRoot = opts.workspaceRoot ?? sandbox.workspaceRoot?.(rig.gitDir) ?? join(rig.gitDir, 'gastown', 'workspaces');
  const hide = await pathsToHide(rig, remote, env);
  const signal = opts.signal ?? new AbortController().signal;
  const summary: RunnerSummary = { runner, outcomes: [], merged: [], landed: [], sentBack: [], failed: [] };
  const sync = townSync(rig, opts.syncMs, env);
  // With a shared remote ledger the remote is the judge of claims, and the runner keeps its
  // view fresh (slings out, others' claims in) every sync.everyMs.
  // A one-bead run (an Actions job) was synced by its job just before: its first sync is due
  // after syncMs like any other (a stale view costs a lost lease at the claim, never a double claim).
  let lastSync = opts.bead ? Date.now() : 0;
  const syncNow = async () => {
    if (!sync) return;
    lastSync = Date.now();
    try {
      await sync.queue(() => syncRig(rig, sync.remote));
    } catch (err) {
      board.note(`ledger sync with ${sync.remote} failed: ${(err as Error).message}`);
    }
  };
  const claimNext = (): Promise<Claim | null> =>
    sync
      ? sync.queue(() =>
          claimOnRemote(
            rig,
            sync.remote,
            () => claimBead(rig, { runner, bead: opts.bead, track: true }),
            (l) => board.note(l),
          ),
        )
      : claimBead(rig, { runner, bead: opts.bead });

  const active = new Map<string, Promise<void>>();
  let claimed = 0;
  let refining: Promise<void> | null = null;
  let refineryFoundWork = false;
  // A pass over an empty queue is cheap but not free: run one when a polecat finished, else now and then.
  let refineDue = true;
  let lastRefine = 0;

  const work = async (claim: Claim): Promise<void> => {
    const log = (text: string) => board.update(claim.polecat, claim.bead, text);
    let outcome: WorkOutcome | 'error';
    try {
      outcome = await workBead({
        rig,
        claim,
        remote,
        sandbox,
        env,
        hide,
        hooksDir,
        workspaceRoot,
        forge,
        signal,
        log,
        agent: opts.agentFactory(claim.polecat),
        draft: opts.draft ?? false,
        keepWorkspace: opts.keepWorkspaces,
        sync,
        stopCheck: opts.stopCheck,
      });
    } catch (err) {
      // Workspace or git trouble before the agent ran: a failed attempt, or the bead's end
      // when the rig's settings are wrong (no retry fixes those).
      outcome = 'error';
      const message = (err as Error).message;
      board.note(`${claim.polecat} ${claim.bead}: ${message}`);
      const after = await failBead(rig, claim, `runner ${runner}: ${message}`, { permanent: isGastownError(err, 'gastown_config') }).catch(
        (e) => {
          if (!isLeaseLost(e)) board.note(`could not record the failure of ${claim.bead}: ${(e as Error).message}`);
          return null;
        },
      );
      if (after?.status === 'failed') summary.failed.push(claim.bead);
    }
    board.remove(claim.polecat);
    summary.outcomes.push({ bead: claim.bead, polecat: claim.polecat, outcome });
    if (outcome === 'failed') summary.failed.push(claim.bead);
    if (outcome === 'in_review') refineDue = true;
  };

  const refine = async (): Promise<void> => {
    refineDue = false;
    lastRefine = Date.now();
    let pass: RefineryPassResult;
    try {
      pass = await refineryPass(rig, { env, remote, sandbox, log: (l) => board.note(l) });
    } catch (err) {
      // A failed pass (git trouble) must not take the polecats down: report it, try again later.
      board.note(`refinery: pass failed: ${(err as Error).message}`);
      refineryFoundWork = false;
      return;
    }
    summary.merged.push(...pass.merged);
    summary.landed.push(...pass.landed);
    summary.sentBack.push(...pass.sentBack);
    summary.failed.push(...pass.failed);
    // A lost push race is progress still to be made: the next pass rebases onto the new tip.
    refineryFoundWork = pass.merged.length + pass.sentBack.length + pass.failed.length + pass.needsHuman.length + pass.raced.length > 0;
    if (refineryFoundWork) refineDue = true;
  };

  while (!signal.aborted) {
    // Emergency stop: claim nothing more; once the polecats in hand stopped (at their next checkpoint), exit.
    if (active.size === 0 && (await estopState(rig)).engaged) {
      board.note('emergency stop engaged: runner stopping (gt estop --release resumes)');
      break;
    }
    const wantMore = !(opts.once && claimed >= 1);
    if (sync && Date.now() - lastSync >= sync.everyMs) await syncNow();
    if (wantMore && opts.dispatch !== false) {
      const slung = await dispatchReady(rig, opts.bead ? { only: opts.bead } : {});
      for (const s of slung) board.note(`${s.bead.id} slung to ${s.polecat}: ${s.bead.title}`);
    }
    while (wantMore && !signal.aborted && active.size < concurrency && !(opts.once && claimed >= 1)) {
      let claim: Claim | null;
      try {
        claim = await claimNext();
      } catch (err) {
        // The remote refused the claim for a reason of its own (a hook, no access): say so, try later.
        board.note(`could not claim: ${(err as Error).message}`);
        break;
      }
      if (!claim) break;
      claimed++;
      board.update(claim.polecat, claim.bead, claim.takeover ? 'taking over from a silent runner' : 'claimed');
      const p = work(claim).finally(() => active.delete(claim.bead));
      active.set(claim.bead, p);
    }
    if (active.size === 0 && (opts.once || opts.untilIdle)) {
      // Nothing in hand: let the Refinery catch up, then decide whether the town is idle.
      if (refining) await refining;
      let progressed = false;
      if (useRefinery) {
        await refine();
        progressed = refineryFoundWork;
      }
      if (opts.once && (claimed >= 1 || !opts.untilIdle)) break;
      const left = await workLeft(rig);
      // Queued beads the Refinery made no progress on cannot change by waiting here.
      if (left.ready + left.hooked + left.inProgress === 0 && (!useRefinery || left.queued === 0 || !progressed)) break;
      if (progressed) continue;
    } else if (useRefinery && !refining && (refineDue || Date.now() - lastRefine > 5 * (opts.pollMs ?? 200)))
      refining = refine().finally(() => (refining = null));
    await Promise.race([...active.values(), ...(refining ? [refining] : []), sleep(opts.pollMs ?? 200, signal)]);
  }
  if (active.size) await Promise.allSettled(active.values());
  if (refining) await refining;
  // What this runner did since its last sync (finished beads, read marks) goes out now.
  await syncNow();
  board.close();
  return summary;
}

/**
 * The ledger sync while polecats work: settings.syncMs (or the runner's override), by
 * default every 30 s inside GitHub Actions, where the job's clone is not where people write,
 * and never elsewhere; only with a ledger remote (settings.remote).
 */
export function townSync(rig: Rig, override: number | undefined, env: NodeJS.ProcessEnv): TownLinkOptions['sync'] {
  const everyMs = override ?? rig.settings.syncMs ?? (env.GITHUB_ACTIONS === 'true' ? 30_000 : 0);
  const remote = rig.settings.remote;
  return everyMs > 0 && remote ? { remote, everyMs, queue: remoteQueue() } : null;
}

/**
 * Beads whose work failed in this run: failed for good, or whose last attempt here failed
 * (a retry is due, or the runner stopped first). A bead retried and then finished is not one.
 */
export function failedWork(summary: RunnerSummary): string[] {
  const last = new Map<string, RunnerSummary['outcomes'][number]['outcome']>();
  for (const o of summary.outcomes) last.set(o.bead, o.outcome);
  const unfinished = [...last].filter(([, outcome]) => outcome === 'retry' || outcome === 'error').map(([bead]) => bead);
  return [...new Set([...summary.failed, ...unfinished])];
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A stream-shaped sink that hands each complete line to `log`. */
function lineWriter(log: (line: string) => void): NodeJS.WritableStream {
  return {
    write: (chunk: string) => (
      chunk
        .split('\n')
        .filter(Boolean)
        .forEach((l) => log(l)),
      true
    ),
  } as unknown as NodeJS.WritableStream;
}
