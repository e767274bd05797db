/**
 * Flow 1 of the revision loop on GitHub: a person with write access asked for changes on a
 * polecat's pull request (a "changes requested" review, `/gt revise`, or a mention of the
 * app). The bead goes back to the polecat that made it through the same town operation the
 * CLI's `gt review --request-changes` calls (requestRevision), and its workflow run is
 * dispatched again; the runner resumes from the pushed branch and answers on the pull
 * request. Requests (target: at most 3 from the webhook to the dispatch): the repository
 * config when not remembered, the author's permission unless their association settles it,
 * the dispatch. A review's inline comments are fetched by the runner, not here.
 */
import { sanitizeUntrustedText } from '../mayor/sanitize.js';
import { NEEDS_HUMAN_LABEL } from '../town/revision.js';
import type { AppDeps, RepoScope } from './app-deps.js';
import type { PullRequestDelivery } from './advance-bead.js';
import { dispatchBeads } from './dispatch-beads.js';
import { getPermission } from '../forge/github-permission.js';
import { writerByAssociation } from './revise-request.js';
import { hasWrite } from '../town/permissions.js';
import { reviewMarker } from '../town/ids.js';

export interface PullRequestFeedback {
  /** The pull request's number. */
  pr: number;
  /** The bead its head branch (or its hidden marker) names; checked against the bead's recorded PR. */
  bead: string;
  author: string;
  /** GitHub's `author_association` of the review or comment. */
  association?: string | null;
  /** The feedback as written (sanitised here). */
  text: string;
  /** Idempotency key (`review:<id>`, `comment:<id>`): a redelivery changes nothing. */
  key: string;
  /** A review whose inline comments the runner fetches. */
  reviewId?: number;
}

export type ReviseOutcome = 'not_a_writer' | 'not_ours' | 'revise' | 'pending' | 'queue' | 'needs_human' | 'duplicate';

export async function revisePullRequest(
  found: { delivery: PullRequestDelivery; scope: RepoScope },
  deps: AppDeps,
  fb: PullRequestFeedback,
): Promise<ReviseOutcome> {
  const { delivery } = found;
  const known = writerByAssociation(fb.association);
  const writer =
    known ?? hasWrite(await getPermission(delivery.octokit, delivery.owner, delivery.repo, fb.author).catch(() => 'none' as const));
  // No reply: a reply to every outsider's comment would be a loop waiting to happen.
  if (!writer) return 'not_a_writer';
  const text = [sanitizeUntrustedText(fb.text) || '(no text: see the inline comments)', fb.reviewId ? reviewMarker(fb.reviewId, fb.pr) : '']
    .filter(Boolean)
    .join('\n\n');
  return deps.withRepo({ ...found.scope, actor: fb.author }, async (services) => {
    const bead = await services.town.bead(fb.bead);
    // Only a pull request the town recorded for the bead: a copied marker or branch name on another PR is not enough.
    if (!bead || bead.pr?.number !== fb.pr) return 'not_ours';
    const out = await services.town.requestRevision(bead.id, { by: fb.author, kind: 'review', text, key: fb.key });
    if (out.action === 'revise' && !out.pending) await dispatchBeads(delivery, services);
    if (out.action === 'needs_human') await delivery.forge.setLabels(fb.pr, { add: [NEEDS_HUMAN_LABEL] });
    return out.action === 'revise' && out.pending ? 'pending' : out.action;
  });
}
