/**
 * `pull_request_review_comment.created`: an inline comment on a polecat's pull request that
 * says `/gt revise <text>` or mentions the app sends the bead back with the comment's file and
 * line (github/revise-pull-request.ts). Comments made as part of a review arrive with the
 * review (pull_request_review.submitted) and are left to it.
 */
import type { Context } from 'probot';
import { parsePolecatBranch } from '../../town/ids.js';
import type { AppDeps } from '../app-deps.js';
import type { AppMemory } from '../app-memory.js';
import { repositoryDelivery } from '../pull-request-delivery.js';
import { revisePullRequest } from '../revise-pull-request.js';
import { appSlug, revisionAsk } from '../revise-request.js';

export function pullRequestReviewCommentCreated(deps: AppDeps, memory?: AppMemory) {
  return async (context: Context<'pull_request_review_comment.created'>): Promise<void> => {
    const { comment, pull_request: pr, repository } = context.payload;
    if (context.isBot || comment.user?.type === 'Bot') return;
    const polecat = parsePolecatBranch(pr.head.ref);
    if (!polecat || pr.head.repo?.full_name !== repository.full_name) return;
    const ask = revisionAsk(comment.body, await appSlug(memory, comment.body));
    if (ask === null) return;
    const found = await repositoryDelivery(context, deps, memory);
    if (found === null) return;
    const line = comment.line ?? comment.original_line ?? null;
    const outcome = await revisePullRequest(found, deps, {
      pr: pr.number,
      bead: polecat.bead,
      author: comment.user?.login ?? context.payload.sender.login,
      association: comment.author_association,
      text: `${comment.path}${line ? `:${line}` : ''}: ${ask}`,
      key: `comment:${comment.id}`,
    });
    context.log.info(
      { pr: pr.number, bead: polecat.bead, comment: comment.id, outcome },
      'Handled a review comment on a polecat pull request',
    );
  };
}
