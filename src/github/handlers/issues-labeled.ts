/** `issues.labeled` with the Mayor label: plan the issue (flow 1). */
import type { Context } from 'probot';
import type { AppDeps } from '../app-deps.js';
import type { AppMemory } from '../app-memory.js';
import { repoScope } from '../delivery.js';
import { delegatedActor } from '../delegated-actor.js';
import { loadDelivery } from '../load-delivery.js';
import { planIssue } from '../plan-issue.js';

export function issuesLabeled(deps: AppDeps, memory?: AppMemory) {
  return async (context: Context<'issues.labeled'>): Promise<void> => {
    const label = context.payload.label?.name;
    if (label === undefined) return;
    // A goal issue the app opened for a Slack user acts as that user (checked like anyone).
    const delegated = delegatedActor(context.payload.issue, deps.appId);
    // The labels the app itself puts (on every child issue it makes) come back as events:
    // nothing to do, so nothing to read for them.
    if (delegated === null && (await memory?.isOwnEvent(context.payload.sender))) return;
    const sender = delegated ?? context.payload.sender.login;
    const delivery = await loadDelivery(context, deps, sender, (c) => c.labels.mayor === label, memory);
    if (delivery === null || label !== delivery.config.labels.mayor) return;
    const outcome = await deps.withRepo(repoScope(delivery), (services) => planIssue(delivery, services));
    context.log.info({ issue: context.payload.issue.number, outcome }, 'Handled Mayor label');
  };
}
