/**
 * The convoy-wide budget bound: every agent turn of a budgeted convoy is reserved in one
 * ledger document (`meta/turns.<convoy>`) by compare-and-swap before it starts and released
 * when its usage is recorded, so runners working the same convoy in parallel see each other's
 * turns in flight. A turn may start alone whenever the budget is not reached, and beside
 * others only while all of them together, at the largest turn cost the convoy has recorded,
 * still leave the budget unreached (town/costs.ts `turnDecision`). A turn held by a run whose
 * heartbeat went stale (a dead runner) no longer counts.
 */
import { beadsSpent, largerUsage, turnDecision } from '../town/costs.js';
import type { Bead, Convoy, Heartbeat, ModelUsage } from '../town/types.js';
import type { Rig } from './rig.js';

interface TurnHold {
  /** `<polecat>/<bead>/<run>`: one turn at a time per run. */
  holder: string;
  polecat: string;
  bead: string;
  at: string;
}

export interface TurnBook {
  turns: TurnHold[];
  /** The most one turn of this convoy has cost, per kind; null before the first ended. */
  largest: ModelUsage | null;
}

const EMPTY: TurnBook = { turns: [], largest: null };

export function turnBookId(convoyId: string): string {
  return `turns.${convoyId}`;
}

export type TurnAnswer = { kind: 'go' } | { kind: 'wait'; inFlight: number } | { kind: 'spent' };

/** Reserves a turn for `hold` (or keeps the one it holds), or says to wait or stop. */
export async function reserveTurn(rig: Rig, convoyId: string, hold: Omit<TurnHold, 'at'>): Promise<TurnAnswer> {
  return rig.ledger.transact(
    async (tx): Promise<TurnAnswer> => {
      const book = (await tx.get<TurnBook>('meta', turnBookId(convoyId))) ?? EMPTY;
      const convoy = await tx.get<Convoy>('convoys', convoyId);
      if (!convoy?.budget) return { kind: 'go' };
      const beads: Bead[] = [];
      for (const id of convoy.beads) {
        const b = await tx.get<Bead>('beads', id);
        if (b) beads.push(b);
      }
      const now = rig.now().getTime();
      const live: TurnHold[] = [];
      for (const t of book.turns) {
        const beat = await tx.get<Heartbeat>('heartbeats', t.polecat);
        if (beat && beat.bead === t.bead && now - Date.parse(beat.at) <= rig.settings.leaseMs) live.push(t);
      }
      const others = live.filter((t) => t.holder !== hold.holder);
      const answer = turnDecision(convoy.budget, beadsSpent(beads), others.length, book.largest);
      if (answer !== 'go') return answer === 'wait' ? { kind: 'wait', inFlight: others.length } : { kind: 'spent' };
      if (others.length !== live.length && live.length === book.turns.length) return { kind: 'go' };
      tx.put<TurnBook>(
        'meta',
        turnBookId(convoyId),
        { turns: [...others, { ...hold, at: rig.at() }], largest: book.largest },
        `turn ${hold.holder}`,
      );
      return { kind: 'go' };
    },
    { actor: rig.actor },
  );
}

/** The turn `holder` held ended; `cost` (what it spent, when known) raises the convoy's largest turn. */
export async function endTurn(rig: Rig, convoyId: string, holder: string, cost: ModelUsage | null): Promise<void> {
  await rig.ledger.transact(
    async (tx) => {
      const book = await tx.get<TurnBook>('meta', turnBookId(convoyId));
      if (!book) return;
      const turns = book.turns.filter((t) => t.holder !== holder);
      const largest = cost ? largerUsage(book.largest, cost) : book.largest;
      if (turns.length === book.turns.length && largest === book.largest) return;
      tx.put<TurnBook>('meta', turnBookId(convoyId), { turns, largest }, `end turn ${holder}`);
    },
    { actor: rig.actor },
  );
}
