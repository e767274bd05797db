/** `pull_request.opened`: a polecat's pull request is up; its convoy's status comment catches up. */
import type { Context } from 'probot';
import { refreshOnOpened } from '../advance-bead.js';
import type { AppDeps } from '../app-deps.js';
import type { AppMemory } from '../app-memory.js';
import { pullRequestDelivery } from '../pull-request-delivery.js';

export function pullRequestOpened(deps: AppDeps, memory?: AppMemory) {
  return async (context: Context<'pull_request.opened'>): Promise<void> => {
    const pr = context.payload.pull_request;
    const found = await pullRequestDelivery(context, deps, memory);
    if (found === null) return;
    const opened = { number: pr.number, headRef: pr.head.ref, body: pr.body ?? null };
    const outcome = await deps.withRepo(found.scope, (services) => refreshOnOpened(found.delivery, services, opened));
    context.log.info({ pr: pr.number, outcome }, 'Handled opened pull request');
  };
}
