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
 * nothing (the next event retries); a crash between the push and the dispatch leaves a
 * marked sling without a run (no duplicate, but the bead waits until someone reslings it).
 */
import type { Logger } from 'pino';
import type { RepoConfig } from '../config/repo-config.js';
import type { ForgePort } from '../forge/forge-port.js';
import { describeError } from './report-failure.js';
import type { DispatchOptions } from '../rig/town-service.js';
import type { RepoServices } from './app-deps.js';
import { parsePolecatBranch, polecatBranch } from '../town/ids.js';
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
  services: Pick<RepoServices, 'town' | 'publish' | 'replica'>,
  opts: DispatchOptions = {},
): Promise<string[]> {
  const { forge, config, defaultBranch, log } = scope;
  const dispatched: string[] = [];
  try {
    const pending = await services.town.pendingDispatch(config.concurrency, opts);
    const workflow = config.polecatWorkflow;
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
