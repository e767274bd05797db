/** `pull_request.closed`: a polecat's pull request was merged or closed (flow 4). */
import type { Context } from 'probot';
import { advanceOnClose } from '../advance-bead.js';
import type { AppDeps } from '../app-deps.js';
import type { AppMemory } from '../app-memory.js';
import { pullRequestDelivery } from '../pull-request-delivery.js';

export function pullRequestClosed(deps: AppDeps, memory?: AppMemory) {
  return async (context: Context<'pull_request.closed'>): Promise<void> => {
    const pr = context.payload.pull_request;
    const found = await pullRequestDelivery(context, deps, memory);
    if (found === null) return;
    const closed = {
      number: pr.number,
      url: pr.html_url,
      merged: pr.merged === true,
      headRef: pr.head.ref,
      headSha: pr.head.sha,
      body: pr.body ?? null,
      baseRef: pr.base.ref,
    };
    const outcome = await deps.withRepo(found.scope, (services) => advanceOnClose(found.delivery, services, closed));
    context.log.info({ pr: pr.number, merged: closed.merged, outcome }, 'Handled closed pull request');
  };
}
