/**
 * `workflow_run.completed` of the polecat workflow: that run is over, whatever it did. A
 * bead it left in progress (it died mid-work; its last `gt sync` published the claim) is
 * slung anew at once rather than after the heartbeat lease, and dispatched again. The run's
 * title names its bead (`run-name` in templates/gastown-polecat.yml), so a run that died
 * before publishing any claim is caught too.
 */
import type { Context } from 'probot';
import type { AppDeps } from '../app-deps.js';
import type { AppMemory } from '../app-memory.js';
import { dispatchBeads } from '../dispatch-beads.js';
import { repositoryDelivery } from '../pull-request-delivery.js';
import { parsePolecatRunTitle } from '../../town/ids.js';

export function workflowRunCompleted(deps: AppDeps, memory?: AppMemory) {
  return async (context: Context<'workflow_run.completed'>): Promise<void> => {
    const run = context.payload.workflow_run;
    const found = await repositoryDelivery(context, deps, memory);
    if (found === null) return;
    const workflow = found.delivery.config.polecatWorkflow;
    if (workflow === null || !run.path?.endsWith(`/${workflow}`)) return;
    const bead = beadOfRunTitle(run.display_title);
    const endedRun = bead ? { id: run.id, bead, createdAt: run.created_at } : undefined;
    const dispatched = await deps.withRepo(found.scope, (services) =>
      dispatchBeads(found.delivery, services, { deadRunners: [`gha-${run.id}`], endedRun }),
    );
    context.log.info({ run: run.id, bead, conclusion: run.conclusion, dispatched }, 'Polecat run finished');
  };
}

/** The bead of a polecat run from its title, `gastown-polecat gt-xxxx`; null for any other title. */
export function beadOfRunTitle(title: unknown): string | null {
  return parsePolecatRunTitle(title);
}
