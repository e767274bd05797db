import { GastownError } from '../errors.js';
import { landConvoy } from '../town/convoy.js';
import { transitionBead } from '../town/lifecycle.js';
import type { Agent, Bead, Convoy, Hook } from '../town/types.js';
import { readyDependentsOf } from './dependents.js';
import type { Rig } from './rig.js';
import { checkBeadId, parsePolecatBranch } from '../town/ids.js';
import { feedRefs } from '../town/feed-refs.js';

export interface MergedOutcome {
  bead: Bead;
  /** Null when the bead was already closed (a redelivered merge event). */
  changed: boolean;
  convoy: Convoy | null;
  /** The convoy landed with this merge. */
  landed: boolean;
  /** Beads that became ready because this one closed. */
  newlyReady: Bead[];
}

/**
 * A bead's work was merged (a PR on GitHub, the Refinery locally): the bead closes, its
 * polecat's hook is cleared and its tally grows, and when it was the convoy's last open
 * bead the convoy lands, all in one transaction with the feed events. Idempotent.
 */
export async function recordMerged(rig: Rig, beadId: string, opts: { reason?: string; url?: string | null } = {}): Promise<MergedOutcome> {
  checkBeadId(beadId);
  const outcome = await rig.ledger.transact(
    async (tx) => {
      const bead = await tx.get<Bead>('beads', beadId);
      if (!bead) throw new GastownError('gastown_not_found', `no bead ${beadId}`);
      if (bead.status === 'closed')
        return { bead, changed: false, convoy: bead.convoy ? await tx.get<Convoy>('convoys', bead.convoy) : null, landed: false };
      const closed = transitionBead(bead, 'closed', rig.at(), { closeReason: opts.reason ?? 'merged' });
      tx.put('beads', beadId, closed, `merged beads/${beadId}`);
      rig.emit(tx, 'merged', `${beadId} merged: ${bead.title}`, feedRefs(bead, opts.url ?? bead.pr?.url ?? bead.issue?.url ?? null));
      if (bead.assignee) {
        const hook = await tx.get<Hook>('hooks', bead.assignee);
        if (hook?.bead === beadId) tx.put<Hook>('hooks', bead.assignee, { ...hook, bead: null, slungAt: null, slungBy: null });
        const agent = await tx.get<Agent>('agents', bead.assignee);
        if (agent) tx.put<Agent>('agents', bead.assignee, { ...agent, beadsDone: agent.beadsDone + 1 });
      }
      let convoy: Convoy | null = null;
      let landed = false;
      if (bead.convoy) {
        convoy = await tx.get<Convoy>('convoys', bead.convoy);
        if (convoy && convoy.status === 'active') {
          const siblings = (
            await rig.ledger.getMany<Bead>(
              'beads',
              convoy.beads.filter((b) => b !== beadId),
            )
          ).map((b) => b.value);
          if (siblings.every((b) => b.status === 'closed') && siblings.length === convoy.beads.length - 1) {
            convoy = landConvoy(convoy, rig.at());
            tx.put('convoys', convoy.id, convoy, `land convoys/${convoy.id}`);
            rig.emit(tx, 'convoy_landed', `convoy "${convoy.title}" landed: ${convoy.beads.length} beads merged`, { convoy: convoy.id });
            landed = true;
          } else {
            // Written even when not landing: compare-and-swap guards only what a transaction
            // writes, so touching the convoy makes two concurrent last merges conflict, and
            // the retry sees the other bead closed and lands the convoy.
            convoy = { ...convoy, updatedAt: rig.at() };
            tx.put('convoys', convoy.id, convoy, `progress convoys/${convoy.id}`);
          }
        }
      }
      return { bead: closed, changed: true, convoy, landed };
    },
    { actor: rig.actor },
  );
  // From the closed bead's dependents index, not a scan of every bead.
  const newlyReady = outcome.changed ? await readyDependentsOf(rig, outcome.bead) : [];
  return { ...outcome, newlyReady };
}

/**
 * A bead's PR was closed without merging: the bead is open again (its polecat's hook
 * cleared) so dispatch can sling it anew. Idempotent.
 */
export async function recordRejected(
  rig: Rig,
  beadId: string,
  why = 'pull request closed without merging',
  head?: { branch: string; tip: string | null },
): Promise<Bead> {
  checkBeadId(beadId);
  return rig.ledger.transact(
    async (tx) => {
      const bead = await tx.get<Bead>('beads', beadId);
      if (!bead) throw new GastownError('gastown_not_found', `no bead ${beadId}`);
      if (bead.status === 'open' || bead.status === 'closed' || bead.status === 'failed') return bead;
      if (bead.assignee) {
        const hook = await tx.get<Hook>('hooks', bead.assignee);
        if (hook?.bead === beadId) tx.put<Hook>('hooks', bead.assignee, { ...hook, bead: null, slungAt: null, slungBy: null });
      }
      const branch = head?.branch ?? bead.branch;
      const rejected = branch && parsePolecatBranch(branch) ? { branch, tip: head?.tip ?? null } : null;
      const open = transitionBead(bead, 'open', rig.at(), { pr: null, ...(rejected ? { rejected } : {}) });
      tx.put('beads', beadId, open, `reopen beads/${beadId}`);
      rig.emit(tx, 'bead_reopened', `${beadId} open again: ${why}`, feedRefs(bead));
      return open;
    },
    { actor: rig.actor },
  );
}
