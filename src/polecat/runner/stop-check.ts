/**
 * "Should this polecat stop?", asked by the runner on every tick while an agent works (after
 * the tick's sync, so a stop made on another machine counts). A yes stops the agent at its
 * next checkpoint with its work pushed (work-bead.ts); the bead itself is left as whoever
 * asked for the stop left it. Budgets and the emergency stop are not here: they settle the
 * bead differently (paused, released), so budget-check.ts asks them before each agent turn,
 * against the ledger this tick's sync keeps current.
 */
import type { Rig } from '../../rig/rig.js';
import type { Claim } from '../../rig/work.js';
import type { Bead, Convoy } from '../../town/types.js';

export interface StopVerdict {
  /** One line for the log and the checkpoint's commit message. */
  reason: string;
}

export type StopCheck = (rig: Rig, claim: Claim) => Promise<StopVerdict | null>;

/** The checks in force: the bead's convoy was stopped (`gt convoy stop`, `/gt stop`). */
export const shouldStop: StopCheck = async (rig, claim) => {
  const bead = (await rig.ledger.get<Bead>('beads', claim.bead))?.value;
  if (!bead?.convoy) return null;
  const convoy = (await rig.ledger.get<Convoy>('convoys', bead.convoy))?.value;
  if (convoy?.status === 'stopped') return { reason: `convoy ${convoy.id} was stopped` };
  return null;
};
