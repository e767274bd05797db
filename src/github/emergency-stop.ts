/**
 * The emergency stop on a GitHub repository, one operation for every surface that reaches it
 * (the `/gt estop` comment, Slack's `/gt estop` through the GitHub rig provider): the ledger
 * flag is set (`TownService.estop`) and published first, so runs that sync see it and stop
 * at their next checkpoint and nothing more is slung or dispatched; then the polecat
 * workflow's queued and in-progress runs are cancelled. A release publishes the lifted flag
 * and dispatches the waiting beads again. Every step is idempotent: pressed twice, the flag
 * is written once and the second cancel finds nothing left to cancel.
 */
import type { RepoServices } from './app-deps.js';
import { dispatchBeads, type DispatchScope } from './dispatch-beads.js';

export interface EmergencyStopResult {
  /** False when the flag already was as asked. */
  changed: boolean;
  /** The workflow runs cancelled (engage), none on a release. */
  cancelled: number[];
  /** The beads dispatched again (release), none on an engage. */
  dispatched: string[];
}

export async function emergencyStop(
  scope: DispatchScope,
  services: Pick<RepoServices, 'town' | 'publish' | 'replica'>,
  engaged: boolean,
  actor: string,
): Promise<EmergencyStopResult> {
  const { changed } = await services.town.estop(engaged, actor);
  await services.publish();
  if (!engaged) return { changed, cancelled: [], dispatched: await dispatchBeads(scope, services) };
  const workflow = scope.config.polecatWorkflow;
  const cancelled = workflow ? ((await scope.forge.cancelWorkflowRuns?.(workflow)) ?? []) : [];
  return { changed, cancelled, dispatched: [] };
}
