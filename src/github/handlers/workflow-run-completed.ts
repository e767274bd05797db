/**
 * `workflow_run.completed` of the polecat workflow: that run is over, whatever it did. A
 * bead it left in progress (it died mid-work; its last `gt sync` published the claim) is
 * slung anew at once rather than after the heartbeat lease, and dispatched again.
 */
import type { Context } from 'probot';
import type { AppDeps } from '../app-deps.js';
import { dispatchBeads } from '../dispatch-beads.js';
import { repositoryDelivery } from '../pull-request-delivery.js';

export function workflowRunCompleted(deps: AppDeps) {
  return async (context: Context<'workflow_run.completed'>): Promise<void> => {
    const run = context.payload.workflow_run;
    const found = await repositoryDelivery(context, deps);
    if (found === null) return;
    const workflow = found.delivery.config.polecatWorkflow;
    if (workflow === null || !run.path?.endsWith(`/${workflow}`)) return;
    const dispatched = await deps.withRepo(found.scope, (services) =>
      dispatchBeads(found.delivery, services.work, { deadRunners: [`gha-${run.id}`] }),
    );
    context.log.info({ run: run.id, conclusion: run.conclusion, dispatched }, 'Polecat run finished');
  };
}
