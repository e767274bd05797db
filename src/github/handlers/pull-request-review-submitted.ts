/**
 * `pull_request_review.submitted`: a review asking for changes on a polecat's pull request
 * (or a review whose body says `/gt revise` or mentions the app) sends the bead back to its
 * polecat (github/revise-pull-request.ts). Bots' reviews, other pull requests and other
 * reviews are ignored before anything is read.
 */
import type { Context } from 'probot';
import { parsePolecatBranch } from '../../town/ids.js';
import type { AppDeps } from '../app-deps.js';
import type { AppMemory } from '../app-memory.js';
import { repositoryDelivery } from '../pull-request-delivery.js';
import { revisePullRequest } from '../revise-pull-request.js';
import { appSlug, revisionAsk } from '../revise-request.js';

export function pullRequestReviewSubmitted(deps: AppDeps, memory?: AppMemory) {
  return async (context: Context<'pull_request_review.submitted'>): Promise<void> => {
    const { review, pull_request: pr, repository } = context.payload;
    if (context.isBot || review.user?.type === 'Bot') return;
    const polecat = parsePolecatBranch(pr.head.ref);
    if (!polecat || pr.head.repo?.full_name !== repository.full_name) return;
    const requested = review.state?.toLowerCase() === 'changes_requested';
    const ask = requested ? (review.body ?? '') : revisionAsk(review.body, await appSlug(memory, review.body));
    if (ask === null) return;
    const found = await repositoryDelivery(context, deps, memory);
    if (found === null) return;
    const outcome = await revisePullRequest(found, deps, {
      pr: pr.number,
      bead: polecat.bead,
      author: review.user?.login ?? context.payload.sender.login,
      association: review.author_association,
      text: ask,
      key: `review:${review.id}`,
      reviewId: review.id,
    });
    context.log.info({ pr: pr.number, bead: polecat.bead, review: review.id, outcome }, 'Handled a review of a polecat pull request');
  };
}
