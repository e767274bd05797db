/**
 * Flow 4 (advance) on GitHub, when a polecat's pull request closes:
 *   1. find the bead: the head branch `polecat/<name>/<bead>`, else a `Gastown-Bead: <id>`
 *      trailer or `<!-- gastown:bead <id> -->` marker in the body;
 *   2. merged → the bead closes in the ledger (and the convoy lands with its last bead);
 *      closed unmerged → the bead is open again;
 *   3. only when the ledger changed: close the bead's child issue, label the beads that
 *      became ready, and (after step 4) update the status comment and, when the convoy
 *      landed, say so on the parent (and close it if the config asks);
 *   3b. open sibling pull requests of the convoy that no longer merge get a rebase round
 *      (rebase-siblings.ts);
 *   4. dispatch what is ready now (idempotent, so a redelivery only retries what is pending),
 *      before the status comment so it shows the beads just slung.
 * A redelivered event finds the ledger already changed and writes nothing to GitHub, unless
 * the first delivery stopped before GitHub showed the merge: then it finishes that part.
 */
import type { RepoServices } from './app-deps.js';
import type { Delivery } from './delivery.js';
import { dispatchBeads } from './dispatch-beads.js';
import { ensureStatus } from './materialise-convoy.js';
import { rebaseSiblings } from './rebase-siblings.js';
import type { RecordedConvoy } from '../rig/town-service.js';
import type { Bead } from '../town/types.js';
import { isBeadId, landedMarker, parseBeadMarker, parseBeadTrailer, parsePolecatBranch } from '../town/ids.js';

export interface ClosedPullRequest {
  number: number;
  url: string;
  merged: boolean;
  headRef: string;
  body: string | null;
  /** The branch it was merged into (GitHub closes the issues its body names only on the default branch). */
  baseRef?: string;
}

/** A delivery about a pull request: `target` is unknown until the bead's parent issue is. */
export type PullRequestDelivery = Omit<Delivery, 'target'> & { owner: string; repo: string; sender: string };

export type AdvanceOutcome = 'not_ours' | 'merged' | 'landed' | 'resumed' | 'reopened' | 'unchanged';

/** Recorded on a bead once GitHub shows its merge (issue closed, dependents labelled, status). */
export const MERGE_MIRRORED = 'github:merge-mirrored';

export function beadIdOfPullRequest(pr: Pick<ClosedPullRequest, 'headRef' | 'body'>): string | null {
  const marked = parseBeadMarker(pr.body);
  return parsePolecatBranch(pr.headRef)?.bead ?? parseBeadTrailer(pr.body) ?? (marked !== null && isBeadId(marked) ? marked : null);
}

export async function advanceOnClose(
  delivery: PullRequestDelivery,
  services: RepoServices,
  pr: ClosedPullRequest,
): Promise<AdvanceOutcome> {
  const { forge, config, log } = delivery;
  const beadId = beadIdOfPullRequest(pr);
  const bead = beadId === null ? null : await services.town.bead(beadId);
  if (bead === null) {
    log.debug({ pr: pr.number, bead: beadId }, 'Closed pull request is not a polecat bead of this repository');
    return 'not_ours';
  }

  let outcome: AdvanceOutcome = 'unchanged';
  if (pr.merged) {
    const merged = await services.town.recordMerged(bead.id, pr.url);
    // A merge whose GitHub side did not finish (a crash, GitHub down) is finished by the
    // redelivery; one that finished is marked on the bead and left alone.
    if (merged.changed || !merged.bead.labels.includes(MERGE_MIRRORED)) {
      outcome = merged.changed ? (merged.landed ? 'landed' : 'merged') : 'resumed';
      const ready = merged.changed ? merged.newlyReady : await services.town.readyDependents(bead.id);
      log.info({ bead: bead.id, pr: pr.number, outcome, ready: ready.map((b) => b.id) }, 'Bead merged');
      // GitHub closes the bead's issue itself when the body names it ("Closes #n", as the runner writes).
      if (bead.issue && !githubClosesOnMerge(pr, bead.issue.number, delivery.defaultBranch))
        await forge.closeIssue(bead.issue.number, 'completed');
      for (const next of ready) {
        if (next.issue) await forge.setLabels(next.issue.number, { add: [config.labels.ready], remove: [config.labels.blocked] });
      }
    }
    // The default branch moved: open siblings that no longer merge get a rebase round (dispatched below).
    if (merged.changed || !merged.bead.labels.includes(MERGE_MIRRORED)) await rebaseSiblings(delivery, services, { bead, pr: pr.number });
  } else if (isCurrentPullRequest(bead, pr)) {
    await services.town.recordRejected(bead.id);
    outcome = 'reopened';
    log.info({ bead: bead.id, pr: pr.number }, 'Pull request closed unmerged: bead open again');
  }

  // Dispatch first, so the status comment shows the beads just slung.
  await dispatchBeads(delivery, services);
  const recorded = outcome !== 'unchanged' && bead.convoy ? await services.town.convoy(bead.convoy) : null;
  const parent = recorded ? parentDelivery(delivery, recorded) : null;
  if (recorded && parent) {
    await ensureStatus(parent, services, recorded);
    if (recorded.convoy.status === 'landed' && (outcome === 'landed' || outcome === 'resumed')) await announceLanding(parent, recorded);
  }
  if (pr.merged && parsePolecatBranch(pr.headRef)?.bead === bead.id) await nukeMergedBranch(delivery, pr.headRef);
  if (outcome === 'merged' || outcome === 'landed' || outcome === 'resumed') await services.town.markMirrored(bead.id, MERGE_MIRRORED);
  return outcome;
}

/**
 * Nuke on GitHub: the merged polecat branch is deleted (on every delivery of the merge, since
 * a deletion is idempotent). A closed-unmerged pull request keeps its branch: the bead is
 * open again and its work may be picked up. A failure is logged, never fatal to the advance.
 */
async function nukeMergedBranch(delivery: PullRequestDelivery, branch: string): Promise<void> {
  try {
    await delivery.forge.deleteBranch?.(branch);
  } catch (err) {
    delivery.log.warn({ branch, err: (err as Error).message }, 'Could not delete the merged polecat branch');
  }
}

/**
 * Whether GitHub itself closes issue #`issue` for this merged pull request: its body names
 * the issue with a closing keyword and it was merged into the default branch.
 */
export function githubClosesOnMerge(
  pr: Pick<ClosedPullRequest, 'merged' | 'body' | 'baseRef'>,
  issue: number,
  defaultBranch: string,
): boolean {
  if (!pr.merged || pr.baseRef === undefined || pr.baseRef !== defaultBranch) return false;
  return new RegExp(`\\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?):?\\s+#${issue}\\b`, 'i').test(pr.body ?? '');
}

/**
 * Only the bead's own PR reopens it: after a rejection the bead is slung anew, and a
 * redelivered close event of the old PR must not take the new run away.
 */
function isCurrentPullRequest(bead: Bead, pr: ClosedPullRequest): boolean {
  if (bead.pr) return bead.pr.number === pr.number && bead.status !== 'closed' && bead.status !== 'open';
  return bead.status === 'in_review' && bead.branch === pr.headRef;
}

/** The delivery as seen from the convoy's parent issue (for the status comment). */
export function parentDelivery(delivery: PullRequestDelivery, recorded: RecordedConvoy): Delivery | null {
  const issue = recorded.convoy.source?.issue;
  if (!issue || recorded.convoy.source?.repo !== `${delivery.owner}/${delivery.repo}`) return null;
  return {
    ...delivery,
    target: {
      owner: delivery.owner,
      repo: delivery.repo,
      issue: { number: issue.number, id: issue.id ?? 0, title: recorded.convoy.title, body: null, url: issue.url, labels: [] },
      sender: delivery.sender,
    },
  };
}

async function announceLanding(parent: Delivery, recorded: RecordedConvoy): Promise<void> {
  const { forge, config, target } = parent;
  const prs = recorded.beads.map((b: Bead) => b.pr?.number).filter((n): n is number => n !== undefined);
  const body = [
    landedMarker(recorded.convoy.id),
    `🚚 Convoy \`${recorded.convoy.id}\` landed: all ${recorded.beads.length} beads are merged${prs.length ? ` (${prs.map((n) => `#${n}`).join(', ')})` : ''}.`,
    config.closeParentOnLand ? 'Closing this issue as completed.' : '',
  ]
    .filter(Boolean)
    .join('\n\n');
  await forge.ensureStatusComment(target.issue.number, `${body}\n`);
  if (config.closeParentOnLand) await forge.closeIssue(target.issue.number, 'completed');
}

/**
 * A polecat opened its pull request (from GitHub Actions, with the workflow's token): the
 * ledger mirror was synced before this runs, so the convoy's status comment can show the
 * bead in review at once instead of at the next merge.
 */
export async function refreshOnOpened(
  delivery: PullRequestDelivery,
  services: RepoServices,
  pr: Pick<ClosedPullRequest, 'number' | 'headRef' | 'body'>,
): Promise<'not_ours' | 'refreshed'> {
  const beadId = beadIdOfPullRequest(pr);
  const bead = beadId === null ? null : await services.town.bead(beadId);
  const recorded = bead?.convoy ? await services.town.convoy(bead.convoy) : null;
  const parent = recorded ? parentDelivery(delivery, recorded) : null;
  if (!recorded || !parent) return 'not_ours';
  await ensureStatus(parent, services, recorded);
  return 'refreshed';
}
