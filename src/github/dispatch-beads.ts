/**
 * Flow 2 (dispatch) on GitHub: ready beads of convoys that are on GitHub are slung to
 * polecats up to the repository's concurrency cap, and each slung bead gets one workflow run
 * (`workflow_dispatch` on the polecat workflow, input `bead`). The ledger is pushed before
 * the first dispatch: a run fetches it at once and must find its bead hooked there (with
 * its issue link, for `Closes #n`), or it would sling the bead to itself under another
 * polecat's name, or find nothing to do. The run is dispatched first
 * and then recorded on the bead: a crash in between costs a duplicate run, which the
 * runner's compare-and-swap claim makes harmless; a recorded dispatch is never repeated.
 */
import type { Logger } from 'pino';
import type { RepoConfig } from '../config/repo-config.js';
import type { ForgePort } from '../forge/forge-port.js';
import { describeError } from './report-failure.js';
import type { DispatchOptions } from '../rig/town-service.js';
import type { RepoServices } from './app-deps.js';

export interface DispatchScope {
  forge: ForgePort;
  config: RepoConfig;
  defaultBranch: string;
  log: Logger;
}

/** Returns the ids of the beads whose run was dispatched now. Never throws: the next event retries. */
export async function dispatchBeads(
  scope: DispatchScope,
  services: Pick<RepoServices, 'town' | 'publish'>,
  opts: DispatchOptions = {},
): Promise<string[]> {
  const { forge, config, defaultBranch, log } = scope;
  const dispatched: string[] = [];
  try {
    const pending = await services.town.pendingDispatch(config.concurrency, opts);
    const workflow = config.polecatWorkflow;
    if (workflow === null || pending.length === 0) return dispatched;
    await services.publish();
    for (const item of pending) {
      await forge.dispatchWorkflow({ workflow, ref: defaultBranch, inputs: { bead: item.bead.id } });
      await services.town.markDispatched(item);
      dispatched.push(item.bead.id);
      log.info({ bead: item.bead.id, polecat: item.polecat, workflow }, 'Dispatched a polecat run');
    }
  } catch (err) {
    // A missing workflow or a GitHub outage stops this pass; what is left stays pending.
    log.warn({ ...describeError(err), dispatched: dispatched.length }, 'Dispatch stopped');
  }
  return dispatched;
}
