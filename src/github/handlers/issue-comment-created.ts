/** `issue_comment.created`: `/gt plan`, `/gt approve` and `/gt stop` on issues; everything else is ignored. */
import type { Context } from 'probot';
import type { AppDeps, RepoServices } from '../app-deps.js';
import type { AppMemory } from '../app-memory.js';
import { approveConvoy } from '../approve-convoy.js';
import type { Delivery } from '../delivery.js';
import { repoScope } from '../delivery.js';
import { delegatedActor } from '../delegated-actor.js';
import { loadDelivery } from '../load-delivery.js';
import type { GtCommand } from '../parse-command.js';
import { parseCommand } from '../parse-command.js';
import { planIssue } from '../plan-issue.js';
import { stopConvoy } from '../stop-convoy.js';

const COMMANDS: Record<GtCommand, (delivery: Delivery, services: RepoServices) => Promise<string>> = {
  plan: planIssue,
  approve: approveConvoy,
  stop: stopConvoy,
};

export function issueCommentCreated(deps: AppDeps, memory?: AppMemory) {
  return async (context: Context<'issue_comment.created'>): Promise<void> => {
    const { comment, issue } = context.payload;
    // Bots never drive the town by comment, except this app acting for a person it names
    // (a Slack approval); PR comments are for later commands.
    const delegated = delegatedActor(comment, deps.appId);
    if ((!delegated && (context.isBot || comment.user?.type === 'Bot')) || issue.pull_request) return;
    const command = parseCommand(comment.body);
    if (command === null) return;
    const author = delegated ?? comment.user?.login ?? context.payload.sender.login;
    const delivery = await loadDelivery(context, deps, author, () => true, memory);
    if (delivery === null) return;
    const outcome = await deps.withRepo(repoScope(delivery), (services) => COMMANDS[command](delivery, services));
    context.log.info({ issue: issue.number, command, outcome }, 'Handled /gt command');
  };
}
