/**
 * Flow 2 (dispatch) on GitHub: ready beads of convoys that are on GitHub are slung to
 * polecats up to the repository's concurrency cap, and each slung bead gets one workflow run
 * (`workflow_dispatch` on the polecat workflow, input `bead`), once across app replicas:
 *   1. each pending sling is marked on its bead as dispatched by this replica;
 *   2. the ledger is pushed: never forced, so the push is a compare-and-swap on the remote.
 *      A replica that marked the same sling and pushed first wins; this one's push is
 *      refused, it merges, and the bead then carries two marks;
 *   3. the run is dispatched only for slings whose one mark is this replica's.
 * The push also gives the run what it fetches at once: its bead hooked there (with its
 * issue link, for `Closes #n`). A push that fails takes the marks back and dispatches
 * nothing (the next event retries). A call GitHub accepted is recorded on the bead
 * (`dispatch-sent:`). A crash between the push and the call leaves a marked sling with no
 * record of its call: a later pass (any replica, under the repository's lease) that finds
 * one marked longer than `dispatchGraceMs` ago asks GitHub for the workflow's runs since the
 * sling; a run titled for the bead (`gastown-polecat <bead>`) means the call got through
 * (recorded now), none means it did not, and the bead is slung anew and dispatched as any
 * pending sling. So a bead ends with one run, not none and not two.
 */
import type { Logger } from 'pino';
import type { RepoConfig } from '../config/repo-config.js';
import type { ForgePort } from '../forge/forge-port.js';
import { describeError } from './report-failure.js';
import type { DispatchOptions } from '../rig/town-service.js';
import type { RepoServices } from './app-deps.js';
import { parsePolecatBranch, parsePolecatRunTitle, polecatBranch } from '../town/ids.js';
import type { Bead } from '../town/types.js';

export interface DispatchScope {
  forge: ForgePort;
  config: RepoConfig;
  defaultBranch: string;
  log: Logger;
}

/** Returns the ids of the beads whose run was dispatched now. Never throws: the next event retries. */
export async function dispatchBeads(
  scope: DispatchScope,
  services: Pick<RepoServices, 'town' | 'publish' | 'replica' | 'dispatchGraceMs'>,
  opts: DispatchOptions = {},
): Promise<string[]> {
  const { forge, config, defaultBranch, log } = scope;
  const dispatched: string[] = [];
  try {
    const workflow = config.polecatWorkflow;
    if (workflow !== null)
      // Its own failure (GitHub not listing runs) must not keep the pending slings from going out.
      await recoverLostDispatches(scope, services, workflow).catch((err) =>
        log.warn(describeError(err), 'Could not check marked dispatches for their runs'),
      );
    const pending = await services.town.pendingDispatch(config.concurrency, opts);
    if (workflow === null || pending.length === 0) return dispatched;
    const me = services.replica ?? '';
    for (const item of pending) await services.town.markDispatched(item, me);
    try {
      await services.publish();
    } catch (err) {
      for (const item of pending) await services.town.unmarkDispatched(item, me);
      throw err;
    }
    const ours: typeof pending = [];
    for (const item of pending) {
      const by = await services.town.dispatchersOf(item);
      if (by.length === 1 && by[0] === me) ours.push(item);
      else log.info({ bead: item.bead.id, polecat: item.polecat, by }, 'Another replica dispatches this run');
    }
    for (const [i, item] of ours.entries()) {
      await dropRejectedBranch(scope, item.bead, item.polecat);
      try {
        await forge.dispatchWorkflow({ workflow, ref: defaultBranch, inputs: { bead: item.bead.id } });
      } catch (err) {
        // This run and the ones after it were not dispatched: they stay pending (the marks
        // taken back reach the remote with the visit's last sync).
        for (const left of ours.slice(i)) await services.town.unmarkDispatched(left, me);
        throw err;
      }
      dispatched.push(item.bead.id);
      log.info({ bead: item.bead.id, polecat: item.polecat, workflow }, 'Dispatched a polecat run');
      // Pushed with the visit's last sync; until then a crash here looks like a lost call,
      // and the run GitHub lists for the bead settles it.
      await services.town.confirmDispatched(item);
    }
  } catch (err) {
    // A missing workflow or a GitHub outage stops this pass; what is left stays pending.
    log.warn({ ...describeError(err), dispatched: dispatched.length }, 'Dispatch stopped');
  }
  return dispatched;
}

/**
 * A bead slung again after its pull request closed unmerged, to another polecat: the rejected
 * branch has no run left to replace it, so it is deleted before the new run starts
 * (idempotent: a branch already gone counts as deleted). The same polecat's run replaces it
 * itself (polecat/runner/work-bead.ts). A failure is logged; the branch is then left behind.
 */
async function dropRejectedBranch(scope: DispatchScope, bead: Bead, polecat: string): Promise<void> {
  const rejected = bead.rejected;
  if (!rejected || rejected.branch === polecatBranch(polecat, bead.id) || parsePolecatBranch(rejected.branch)?.bead !== bead.id) return;
  try {
    await scope.forge.deleteBranch?.(rejected.branch);
    scope.log.info({ bead: bead.id, branch: rejected.branch }, 'Deleted the branch of a pull request closed unmerged');
  } catch (err) {
    scope.log.warn({ bead: bead.id, branch: rejected.branch, ...describeError(err) }, 'Could not delete a rejected polecat branch');
  }
}

/** How long a mark without a recorded call waits before GitHub is asked whether its run exists. */
export const DEFAULT_DISPATCH_GRACE_MS = 60_000;

/**
 * Slings marked dispatched whose call was never recorded as accepted (the replica stopped
 * between its mark's push and the call): confirmed when GitHub lists a run of the polecat
 * workflow titled for the bead since the sling, else slung anew so this pass dispatches
 * them. A forge that cannot list runs leaves them as they are.
 */
async function recoverLostDispatches(
  scope: DispatchScope,
  services: Pick<RepoServices, 'town' | 'dispatchGraceMs'>,
  workflow: string,
): Promise<void> {
  if (!scope.forge.workflowRunsSince) return;
  const lost = await services.town.unconfirmedDispatches(services.dispatchGraceMs ?? DEFAULT_DISPATCH_GRACE_MS);
  if (lost.length === 0) return;
  // One listing for all of them, from the earliest sling (less the clock skew GitHub's stamps may have).
  const since = new Date(Math.min(...lost.map((l) => Date.parse(l.slungAt))) - CLOCK_SKEW_MS).toISOString();
  const runs = await scope.forge.workflowRunsSince(workflow, since);
  for (const item of lost) {
    const from = Date.parse(item.slungAt) - CLOCK_SKEW_MS;
    const run = runs.find((r) => parsePolecatRunTitle(r.title) === item.bead.id && Date.parse(r.createdAt) >= from);
    if (run) {
      await services.town.confirmDispatched(item);
      scope.log.info({ bead: item.bead.id, polecat: item.polecat, run: run.id }, 'A marked dispatch had its run');
    } else if (await services.town.reslingUndispatched(item)) {
      scope.log.warn({ bead: item.bead.id, polecat: item.polecat }, 'A marked dispatch has no run; slung anew to dispatch it again');
    }
  }
}

/** GitHub's clock and ours may differ a little; a run is never created before its sling by more. */
const CLOCK_SKEW_MS = 60_000;
