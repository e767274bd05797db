/**
 * `issue_comment.created`: `/gt plan`, `/gt approve`, `/gt stop`, `/gt budget` and `/gt estop` on issues; on a polecat's
 * pull request, `/gt revise <text>` or a mention of the app from a writer sends the bead back
 * to its polecat (github/revise-pull-request.ts). Any other comment by a writer on a planned
 * issue (one with the Mayor's label and a convoy) asks the Mayor to re-plan what has not
 * started (github/replan-issue.ts). Everything else is ignored.
 */
import type { Context } from 'probot';
import type { AppDeps, RepoServices } from '../app-deps.js';
import type { AppMemory } from '../app-memory.js';
import { approveConvoy } from '../approve-convoy.js';
import type { Delivery } from '../delivery.js';
import { repoScope } from '../delivery.js';
import { delegatedActor } from '../delegated-actor.js';
import { loadDelivery } from '../load-delivery.js';
import type { GtCommand } from '../parse-command.js';
import { commandArgs, parseCommand } from '../parse-command.js';
import { budgetCommand } from '../budget-command.js';
import { estopCommand } from '../estop-command.js';
import { planIssue } from '../plan-issue.js';
import { stopConvoy } from '../stop-convoy.js';
import { repositoryDelivery } from '../pull-request-delivery.js';
import { revisePullRequest } from '../revise-pull-request.js';
import { appSlug, revisionAsk } from '../revise-request.js';
import { isBeadId, parseBeadMarker } from '../../town/ids.js';
import { hasWrite } from '../../town/permissions.js';
import { getPermission } from '../../forge/github-permission.js';
import { replanIssue } from '../replan-issue.js';

const COMMANDS: Record<GtCommand, (delivery: Delivery, services: RepoServices, args: string) => Promise<string>> = {
  plan: planIssue,
  approve: approveConvoy,
  stop: stopConvoy,
  budget: budgetCommand,
  estop: estopCommand,
};

export function issueCommentCreated(deps: AppDeps, memory?: AppMemory) {
  return async (context: Context<'issue_comment.created'>): Promise<void> => {
    const { comment, issue } = context.payload;
    // Bots never drive the town by comment, except this app acting for a person it names
    // (a Slack approval); PR comments are for later commands.
    const delegated = delegatedActor(comment, deps.appId);
    if (issue.pull_request) {
      // Never a bot's, the app's own included (its replies must not start another round).
      if (!context.isBot && comment.user?.type !== 'Bot') await reviseOnComment(context, deps, memory);
      return;
    }
    if (!delegated && (context.isBot || comment.user?.type === 'Bot')) return;
    const command = parseCommand(comment.body);
    if (command === null) {
      if (!delegated) await replanOnComment(context, deps, memory);
      return;
    }
    const author = delegated ?? comment.user?.login ?? context.payload.sender.login;
    const delivery = await loadDelivery(context, deps, author, () => true, memory);
    if (delivery === null) return;
    const outcome = await deps.withRepo(repoScope(delivery), (services) =>
      COMMANDS[command](delivery, services, commandArgs(comment.body)),
    );
    context.log.info({ issue: issue.number, command, outcome }, 'Handled /gt command');
  };
}

/** A comment on a pull request: a revision request when it asks for one on a polecat's pull request. */
async function reviseOnComment(context: Context<'issue_comment.created'>, deps: AppDeps, memory?: AppMemory): Promise<void> {
  const { comment, issue } = context.payload;
  const ask = revisionAsk(comment.body, await appSlug(memory, comment.body));
  if (ask === null) return;
  // The payload has no head branch: the pull request's hidden marker names the bead, and the
  // flow checks that the town recorded this very pull request for it.
  const bead = parseBeadMarker(issue.body);
  if (bead === null || !isBeadId(bead)) return;
  const found = await repositoryDelivery(context, deps, memory);
  if (found === null) return;
  const outcome = await revisePullRequest(found, deps, {
    pr: issue.number,
    bead,
    author: comment.user?.login ?? context.payload.sender.login,
    association: comment.author_association,
    text: ask,
    key: `comment:${comment.id}`,
  });
  context.log.info({ pr: issue.number, bead, comment: comment.id, outcome }, 'Handled a comment on a polecat pull request');
}

/**
 * A person's comment that is not a command, on an issue: a re-plan when the issue was planned
 * and the person may write. Checked cheapest first: the payload's labels (a planned issue
 * carries the Mayor's label), then the config, then the person's permission, and only then
 * the repository's ledger. A reader's comment gets no answer (a reply to every remark would
 * be noise).
 */
async function replanOnComment(context: Context<'issue_comment.created'>, deps: AppDeps, memory?: AppMemory): Promise<void> {
  const { comment, issue } = context.payload;
  if ((issue.labels ?? []).length === 0 || !comment.body?.trim()) return;
  const author = comment.user?.login ?? context.payload.sender.login;
  const delivery = await loadDelivery(context, deps, author, () => false, memory);
  if (delivery === null || !delivery.target.issue.labels.includes(delivery.config.labels.mayor)) return;
  const level = await getPermission(context.octokit, delivery.target.owner, delivery.target.repo, author);
  if (!hasWrite(level)) {
    context.log.info(
      { issue: issue.number, sender: author, level },
      'A comment on a planned issue by someone without write access: not an instruction',
    );
    return;
  }
  const outcome = await deps.withRepo(repoScope(delivery), (services) =>
    replanIssue(delivery, services, { id: comment.id, body: comment.body }),
  );
  context.log.info({ issue: issue.number, comment: comment.id, outcome }, 'Handled a comment on a planned issue');
}
