/**
 * Issue 13 part 3 locally: after the Refinery moved the default branch, beads in review that
 * wait for a person's approval (`review: required`) and whose branches no longer merge cleanly
 * with it get the same conflict round a sibling's merge gives on GitHub (requestRevision, kind
 * `conflict`, not counted against `maxRevisions`); the runner rebases before any agent runs.
 * Queued beads need none: the Refinery rebases those itself. One round per bead per tip of the
 * default branch (key `rebase:<sha>`).
 */
import { fetchBranches, refSha, type RigRemote } from '../polecat/runner/rig-remote.js';
import { runGitText } from '../ledger/run-git.js';
import { requestRevision } from '../rig/revise-bead.js';
import type { Rig } from '../rig/rig.js';
import { NEEDS_HUMAN_LABEL } from '../town/revision.js';
import type { Bead } from '../town/types.js';

export async function rebaseWaiting(rig: Rig, beads: readonly Bead[], queued: ReadonlySet<string>, remote: RigRemote): Promise<string[]> {
  const waiting = beads.filter(
    (b) => b.status === 'in_review' && !b.pr && b.branch && !queued.has(b.id) && !b.labels.includes(NEEDS_HUMAN_LABEL),
  );
  if (waiting.length === 0) return [];
  await fetchBranches(
    rig.repoDir,
    remote,
    waiting.map((b) => b.branch!),
  );
  const tip = await refSha(rig.repoDir, `${remote.tracking}${remote.defaultBranch}`);
  if (!tip) return [];
  const sent: string[] = [];
  for (const bead of waiting) {
    const head = await refSha(rig.repoDir, `${remote.tracking}${bead.branch}`);
    if (!head) continue;
    // A real merge of the two tips (git merge-tree exits 1 on a conflict), nothing checked out.
    const merge = await runGitText(['merge-tree', '--write-tree', '--name-only', tip, head], { cwd: rig.repoDir, okCodes: [0, 1] });
    if (merge.exitCode === 0) continue;
    const files = merge.stdout.split('\n\n')[0]!.split('\n').slice(1).filter(Boolean);
    const out = await requestRevision(rig, bead.id, {
      by: rig.actor,
      kind: 'conflict',
      text: `${remote.defaultBranch} moved to ${tip.slice(0, 12)} and ${bead.branch} no longer merges cleanly with it${files.length ? ` (${files.join(', ')})` : ''}. Rebase it onto ${remote.defaultBranch}.`,
      key: `rebase:${tip}`,
    });
    if (out.action === 'revise') sent.push(bead.id);
  }
  return sent;
}
