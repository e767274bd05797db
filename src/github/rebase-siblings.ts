/**
 * Issue 13 part 3 on GitHub, "siblings stay mergeable": when a pull request of a convoy merges,
 * every other pull request of that convoy still in review that GitHub now says cannot merge
 * (`mergeable_state` `dirty`: a conflict with the default branch; `behind`: the repository
 * requires up-to-date branches) goes back to its polecat as a conflict round
 * (requestRevision, kind `conflict`: not counted against `maxRevisions`). The runner then
 * rebases the branch before any agent runs (polecat/runner/rebase-round.ts): a clean rebase
 * is pushed without the agent, a conflict is the agent's to resolve. One round per sibling per
 * merge (key `rebase:#<merged pr>`), so a redelivered merge changes nothing. The caller
 * dispatches afterwards. Costs one request per sibling in review (its mergeability).
 */
import type { RevisionOutcome } from '../rig/revise-bead.js';
import { NEEDS_HUMAN_LABEL } from '../town/revision.js';
import type { Bead } from '../town/types.js';
import type { RepoServices } from './app-deps.js';
import type { Delivery } from './delivery.js';
import { describeError } from './report-failure.js';

/** States of a pull request a rebase can fix. */
const NEEDS_REBASE = new Set(['dirty', 'behind']);

/** GitHub computes mergeability in the background: `mergeable: null` means "ask again shortly". */
const UNKNOWN_RETRIES = [300, 1000, 2000];

/** What this needs of a pull request's delivery. */
export type SiblingScope = Pick<Delivery, 'octokit' | 'log' | 'defaultBranch'> & { owner: string; repo: string };

export interface SiblingRebase {
  bead: string;
  pr: number;
  state: string;
  outcome: RevisionOutcome['action'] | 'mergeable' | 'unknown';
}

export async function rebaseSiblings(
  delivery: SiblingScope,
  services: Pick<RepoServices, 'town'>,
  merged: { bead: Bead; pr: number },
): Promise<SiblingRebase[]> {
  const convoyId = merged.bead.convoy;
  if (!convoyId) return [];
  const recorded = await services.town.convoy(convoyId);
  const siblings = (recorded?.beads ?? []).filter(
    (b) => b.id !== merged.bead.id && b.status === 'in_review' && b.pr && !b.labels.includes(NEEDS_HUMAN_LABEL),
  );
  const done: SiblingRebase[] = [];
  for (const sibling of siblings) {
    const pr = sibling.pr!.number;
    let state: string;
    try {
      state = await mergeableState(delivery, pr);
    } catch (err) {
      // One unreadable pull request must not cost the others their round.
      delivery.log.warn({ ...describeError(err), pr }, 'Could not read whether a sibling pull request still merges');
      continue;
    }
    if (!NEEDS_REBASE.has(state)) {
      done.push({ bead: sibling.id, pr, state, outcome: state === 'unknown' ? 'unknown' : 'mergeable' });
      continue;
    }
    const why =
      state === 'dirty'
        ? `conflicts with ${delivery.defaultBranch}`
        : `is behind ${delivery.defaultBranch}, which this repository requires to be up to date`;
    let out: RevisionOutcome;
    try {
      out = await services.town.requestRevision(sibling.id, {
        by: 'gastown',
        kind: 'conflict',
        text: `#${merged.pr} (${merged.bead.title}) merged into ${delivery.defaultBranch}, and this pull request (#${pr}) now ${why}. Rebase ${sibling.branch ?? 'the branch'} onto ${delivery.defaultBranch}.`,
        key: `rebase:#${merged.pr}`,
      });
    } catch (err) {
      // The sibling moved on meanwhile (a run took it): its next finish sees the new default branch.
      delivery.log.warn({ ...describeError(err), pr, bead: sibling.id }, 'Could not send a sibling back to rebase');
      continue;
    }
    done.push({ bead: sibling.id, pr, state, outcome: out.action });
  }
  if (done.length) delivery.log.info({ merged: merged.pr, siblings: done }, 'Checked the sibling pull requests after a merge');
  return done;
}

async function mergeableState(delivery: SiblingScope, pr: number): Promise<string> {
  const { octokit, owner, repo } = delivery;
  for (let attempt = 0; ; attempt++) {
    const { data } = await octokit.rest.pulls.get({ owner, repo, pull_number: pr });
    if (data.state !== 'open') return 'closed';
    if (data.mergeable === false) return 'dirty';
    if (data.mergeable !== null && data.mergeable_state !== 'unknown') return data.mergeable_state;
    const wait = UNKNOWN_RETRIES[attempt];
    if (wait === undefined) return 'unknown';
    await new Promise((r) => setTimeout(r, wait));
  }
}
