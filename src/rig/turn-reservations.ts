/**
 * The convoy-wide budget bound: every agent turn of a budgeted convoy is reserved in one
 * ledger document (`meta/turns.<convoy>`) by compare-and-swap before it starts and released
 * when its usage is recorded, so runners working the same convoy in parallel see each other's
 * turns in flight. A turn may start alone whenever the budget is not reached, and beside
 * others only while all of them together, at the largest turn cost the convoy has recorded,
 * still leave the budget unreached (town/costs.ts `turnDecision`). A turn held by a run whose
 * heartbeat went stale (a dead runner) no longer counts.
 *
 * The document also carries what the convoy's ended turns cost (`spent`, added by each
 * release in the same write), and a decision takes the larger of that and what the beads'
 * usage records say. Runners in separate clones of one remote (Actions jobs) publish each
 * reservation and release to the remote as they write it (polecat/runner/budget-check.ts,
 * with `track`), so there the document is current even when other beads' usage is not yet
 * synced.
 */
import { beadsSpent, budgetSpent, largerUsage, sumUsage, turnDecision, zeroUsage } from '../town/costs.js';
import type { Bead, Convoy, Heartbeat, ModelUsage } from '../town/types.js';
import type { Rig } from './rig.js';
import type { ClaimedRef } from './work.js';

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
  /** What the turns released here cost, summed (absent in documents written before it was kept). */
  spent?: ModelUsage;
}

const EMPTY: TurnBook = { turns: [], largest: null };

export function turnBookId(convoyId: string): string {
  return `turns.${convoyId}`;
}

/** `wrote`, with `track`: the document's ref as this call changed it (empty when it wrote nothing). */
export type TurnAnswer = ({ kind: 'go' } | { kind: 'wait'; inFlight: number } | { kind: 'spent'; why: string }) & {
  wrote?: ClaimedRef[];
};

/** The values of the book's ref before and after a write of it (`before` read inside the transaction, after its own read). */
async function tracked(rig: Rig, ref: string, before: string | null | undefined): Promise<ClaimedRef[]> {
  if (before === undefined) return [];
  const after = (await rig.ledger.tips([ref])).get(ref) ?? null;
  return after && after !== before ? [{ ref, before, after }] : [];
}

/**
 * Reserves a turn for `hold` (or keeps the one it holds), or says to wait or stop. With
 * `track` the answer says what it wrote, for the caller to publish (or undo).
 */
export async function reserveTurn(
  rig: Rig,
  convoyId: string,
  hold: Omit<TurnHold, 'at'>,
  opts: { track?: boolean } = {},
): Promise<TurnAnswer> {
  const ref = rig.ledger.ref('meta', turnBookId(convoyId));
  let before: string | null | undefined;
  const answer = await rig.ledger.transact(
    async (tx): Promise<TurnAnswer> => {
      before = undefined;
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
      // Other beads' usage may not have reached this clone yet; the book's own sum has (it is
      // published with each release), so the larger of the two is the spend to go by.
      const byBeads = beadsSpent(beads);
      const spent = book.spent ? { ...byBeads, usage: largerUsage(book.spent, byBeads.usage) } : byBeads;
      const answer = turnDecision(convoy.budget, spent, others.length, book.largest);
      if (answer === 'spent') return { kind: 'spent', why: budgetSpent(convoy.budget, spent) ?? 'budget spent' };
      if (answer === 'wait') return { kind: 'wait', inFlight: others.length };
      if (others.length !== live.length && live.length === book.turns.length) return { kind: 'go' };
      // Read after the transaction's own read: a change in between fails its compare-and-swap and this runs again.
      if (opts.track) before = (await rig.ledger.tips([ref])).get(ref) ?? null;
      tx.put<TurnBook>('meta', turnBookId(convoyId), { ...book, turns: [...others, { ...hold, at: rig.at() }] }, `turn ${hold.holder}`);
      return { kind: 'go' };
    },
    { actor: rig.actor },
  );
  return opts.track ? { ...answer, wrote: await tracked(rig, ref, before) } : answer;
}

/**
 * The turn `holder` held ended; `cost` (what it spent, when known) raises the convoy's largest
 * turn and, when the book still held the turn, is added to its `spent` in the same write (so a
 * release retried after it already landed adds nothing twice). With `track`, what it wrote.
 */
export async function endTurn(
  rig: Rig,
  convoyId: string,
  holder: string,
  cost: ModelUsage | null,
  opts: { track?: boolean } = {},
): Promise<ClaimedRef[]> {
  const ref = rig.ledger.ref('meta', turnBookId(convoyId));
  let before: string | null | undefined;
  await rig.ledger.transact(
    async (tx) => {
      before = undefined;
      const book = await tx.get<TurnBook>('meta', turnBookId(convoyId));
      if (!book) return;
      const turns = book.turns.filter((t) => t.holder !== holder);
      const held = turns.length !== book.turns.length;
      const largest = cost ? largerUsage(book.largest, cost) : book.largest;
      if (!held && largest === book.largest) return;
      const spent = held && cost ? sumUsage(book.spent ?? zeroUsage(), cost) : book.spent;
      if (opts.track) before = (await rig.ledger.tips([ref])).get(ref) ?? null;
      tx.put<TurnBook>('meta', turnBookId(convoyId), { turns, largest, ...(spent ? { spent } : {}) }, `end turn ${holder}`);
    },
    { actor: rig.actor },
  );
  return opts.track ? tracked(rig, ref, before) : [];
}
