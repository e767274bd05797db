import { recordMerged } from '../rig/advance.js';
import { transitionBead } from '../town/lifecycle.js';
import type { Bead, Convoy, Hook } from '../town/types.js';
import type { Rig } from '../rig/rig.js';
import { countOnAgent, firstLine, mailInTx } from '../rig/work.js';
import { feedRefs } from '../town/feed-refs.js';
import { reviseInTx } from '../rig/revise-bead.js';

export const REFINERY_ACTOR = 'refinery';

/**
 * A merged bead closes through the same path as a merged pull request (recordMerged: hook
 * cleared, beadsDone, convoy landing with its feed events); `rig` acts as the Refinery. A
 * bead no longer in review (another Refinery got there) is left alone.
 */
export async function closeMerged(rig: Rig, beadId: string, sha: string): Promise<{ bead: Bead; landed: Convoy | null } | null> {
  const bead = await rig.ledger.get<Bead>('beads', beadId);
  if (!bead || bead.value.status !== 'in_review') return null;
  const r = await recordMerged(rig, beadId, { reason: `merged as ${sha.slice(0, 12)}` });
  if (!r.changed) return null;
  return { bead: r.bead, landed: r.landed ? r.convoy : null };
}

/**
 * A conflict or a missing branch: the bead goes back on its polecat's hook with mail saying
 * why (or back to open when that polecat has taken other work), up to settings.retryCap
 * attempts; after that it fails and the mayor gets mail. A failed gate is a revision round
 * (rig/revise-bead.ts): back to the same polecat, or `gastown:needs-human` past maxRevisions.
 */
export async function sendBack(rig: Rig, beadId: string, reason: 'conflict' | 'gate' | 'missing', output: string): Promise<Bead | null> {
  return rig.ledger.transact(
    async (tx) => {
      const bead = await tx.get<Bead>('beads', beadId);
      if (!bead || bead.status !== 'in_review') return null;
      const what = reason === 'conflict' ? 'does not rebase cleanly' : reason === 'gate' ? 'failed the gate' : 'was not pushed';
      rig.emit(tx, 'merge_failed', `${beadId} ${what}: ${firstLine(output)}`, feedRefs(bead));
      const polecat = bead.assignee;
      // A failed gate is a revision round like a review's, under the same cap (maxRevisions).
      if (reason === 'gate') {
        const text = `${bead.branch ?? ''} ${what} on ${rig.settings.defaultBranch}.\n\n${output}`;
        return (await reviseInTx(rig, tx, bead, { by: REFINERY_ACTOR, kind: 'gate', text })).bead;
      }
      if (bead.attempts > rig.settings.retryCap || !polecat) {
        const next = transitionBead(bead, 'failed', rig.at());
        tx.put('beads', beadId, next, `merge failed beads/${beadId}`);
        if (polecat) await countOnAgent(tx, polecat, 'beadsFailed');
        rig.emit(tx, 'bead_failed', `${beadId} failed: it ${what} after ${bead.attempts} attempts`, feedRefs(bead));
        mailInTx(rig, tx, {
          from: REFINERY_ACTOR,
          to: 'mayor',
          subject: `MERGE_FAILED ${beadId}: ${bead.title}`.slice(0, 200),
          body: output,
          type: 'MERGE_FAILED',
          bead: beadId,
        });
        return next;
      }
      const hook = await tx.get<Hook>('hooks', polecat);
      let next: Bead;
      if (!hook?.bead || hook.bead === beadId) {
        next = transitionBead(bead, 'hooked', rig.at(), { assignee: polecat });
        tx.put<Hook>('hooks', polecat, { agent: polecat, bead: beadId, slungAt: rig.at(), slungBy: REFINERY_ACTOR });
      } else next = transitionBead(bead, 'open', rig.at());
      tx.put('beads', beadId, next, `sent back beads/${beadId}`);
      mailInTx(rig, tx, {
        from: REFINERY_ACTOR,
        to: polecat,
        subject: `MERGE_FAILED ${beadId}: your branch ${what}`.slice(0, 200),
        body: `${bead.branch ?? ''} ${what} on ${rig.settings.defaultBranch} (attempt ${bead.attempts} of ${rig.settings.retryCap + 1}).\n\n${output}`,
        type: 'MERGE_FAILED',
        bead: beadId,
      });
      return next;
    },
    { actor: REFINERY_ACTOR },
  );
}
