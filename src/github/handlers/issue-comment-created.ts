/** `issue_comment.created`: `/gt plan` and `/gt approve` on issues; everything else is ignored. */
import type { Context } from 'probot';
import type { AppDeps } from '../app-deps.js';
import { approveConvoy } from '../approve-convoy.js';
import { loadDelivery } from '../load-delivery.js';
import { parseCommand } from '../parse-command.js';
import { planIssue } from '../plan-issue.js';

export function issueCommentCreated(deps: AppDeps) {
  return async (context: Context<'issue_comment.created'>): Promise<void> => {
    const { comment, issue } = context.payload;
    // Bots (this app included) never drive the town by comment; PR comments are for later commands.
    if (context.isBot || comment.user?.type === 'Bot' || issue.pull_request) return;
    const command = parseCommand(comment.body);
    if (command === null) return;
    const author = comment.user?.login ?? context.payload.sender.login;
    const delivery = await loadDelivery(context, deps, author, () => true);
    if (delivery === null) return;
    const outcome = command === 'plan' ? await planIssue(delivery, deps.plan) : await approveConvoy(delivery, deps.plan);
    context.log.info({ issue: issue.number, command, outcome }, 'Handled /gt command');
  };
}
