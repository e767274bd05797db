/**
 * A person's hand on a running convoy: stop it (`/gt stop` on GitHub or Slack; approving
 * lives with the plan, in record-plan.ts). Stopping unslings everything in flight in the same transaction, so no runner
 * can start one more bead of a stopped convoy; a runner still working loses its lease.
 */
import { GastownError } from '../errors.js';
import { transitionBead } from '../town/lifecycle.js';
import type { Bead, Convoy, Hook } from '../town/types.js';
import { checkConvoyId } from '../town/ids.js';
import type { Rig } from './rig.js';

export interface StopResult {
  convoy: Convoy;
  unslung: string[];
}

export async function stopConvoy(rig: Rig, id: string): Promise<StopResult> {
  checkConvoyId(id);
  return rig.ledger.transact(
    async (tx) => {
      const convoy = await tx.get<Convoy>('convoys', id);
      if (!convoy) throw new GastownError('gastown_not_found', `no convoy ${id}`);
      if (convoy.status === 'stopped') return { convoy, unslung: [] };
      if (convoy.status === 'landed') throw new GastownError('gastown_illegal_transition', `convoy ${id} has landed: nothing to stop`);
      const unslung: string[] = [];
      for (const beadId of convoy.beads) {
        const bead = await tx.get<Bead>('beads', beadId);
        if (!bead || (bead.status !== 'hooked' && bead.status !== 'in_progress')) continue;
        if (bead.assignee) {
          const hook = await tx.get<Hook>('hooks', bead.assignee);
          if (hook?.bead === beadId) tx.put<Hook>('hooks', bead.assignee, { ...hook, bead: null, slungAt: null, slungBy: null });
          tx.delete('heartbeats', bead.assignee);
        }
        tx.put('beads', beadId, transitionBead(bead, 'open', rig.at()), `stop beads/${beadId}`);
        unslung.push(beadId);
      }
      const next: Convoy = { ...convoy, status: 'stopped', updatedAt: rig.at() };
      tx.put('convoys', id, next, `stop convoys/${id}`);
      rig.emit(tx, 'convoy_stopped', `convoy ${id} stopped by ${rig.actor}${unslung.length ? `; unslung ${unslung.join(', ')}` : ''}`, {
        convoy: id,
      });
      return { convoy: next, unslung };
    },
    { actor: rig.actor },
  );
}
