/**
 * The reverse-edge index: each bead carries `dependents`, the sorted ids of the beads whose
 * `blockedBy` names it, so a single-bead command (show, dep add, close's newly-ready check)
 * reads a bead's dependents without listing every bead.
 *
 * - It is derived data, owned here (the ledger knows nothing of it): every writer of
 *   `blockedBy` (create, dep add/rm, import, recordPlan) changes the blocker's index in the
 *   same compare-and-swap transaction, so two processes adding dependents to one blocker
 *   conflict and the loser re-runs on fresh reads: both land.
 * - It is a string array, so `gt sync` merges it as a set (merge-values.ts), like
 *   `blockedBy` itself; after a sync, `repairAfterSync` adds any edge the merge (or a clone
 *   running an older gastown) left out of an index, for the beads the sync changed.
 * - The promise is a superset: every real dependent is listed. A listed id that no longer
 *   waits on the bead (left by a concurrent remove merging oddly) is harmless: readers
 *   check each listed bead's `blockedBy` (one pipelined read), and `gt doctor` names it.
 * - A bead written before the index existed has no `dependents` field. Readers then fall
 *   back to a scan of every bead (what show always did, from the list cache), and a writer
 *   that adds a dependent to such a bead builds its index with that scan first. Reads never
 *   write: `gt doctor --fix` builds the index of every bead at once.
 */
import { equal } from '../ledger/merge-values.js';
import type { SyncedRef } from '../ledger/sync-ledger.js';
import type { Transaction } from '../ledger/ledger.js';
import { readyBeads } from '../town/graph.js';
import type { Bead } from '../town/types.js';
import type { Rig } from './rig.js';

const SYNC_ACTOR = 'gastown-sync';

/** The bead's index (sorted ids), or null when the bead predates the index (or it is damaged). */
export function indexedDependents(bead: Bead): string[] | null {
  const d = (bead as { dependents?: unknown }).dependents;
  return Array.isArray(d) && d.every((x) => typeof x === 'string') ? (d as string[]) : null;
}

function sortedUnique(ids: Iterable<string>): string[] {
  return [...new Set(ids)].sort();
}

/** Every bead's dependents computed from the edges, for the given beads (all of a rig, or a new batch). */
export function computeDependents(beads: readonly Bead[]): Map<string, string[]> {
  const out = new Map<string, string[]>(beads.map((b) => [b.id, []]));
  for (const b of beads)
    for (const blocker of new Set(b.blockedBy)) {
      const list = out.get(blocker);
      if (list) list.push(b.id);
      else out.set(blocker, [b.id]);
    }
  for (const [id, list] of out) out.set(id, sortedUnique(list));
  return out;
}

/** Beads created together (import, a plan): each carries the index of the edges among them. */
export function withDependents(beads: Bead[]): Bead[] {
  const deps = computeDependents(beads);
  return beads.map((b) => ({ ...b, dependents: deps.get(b.id) ?? [] }));
}

async function scanDependents(rig: Rig, id: string): Promise<string[]> {
  return sortedUnique((await rig.ledger.list<Bead>('beads')).filter((b) => b.value.blockedBy.includes(id)).map((b) => b.id));
}

/**
 * The ids of the beads waiting on `bead`, checked against their own `blockedBy`: the index
 * and one pipelined read of the beads it names; a scan for a bead that predates the index.
 */
export async function dependentsOf(rig: Rig, bead: Bead): Promise<string[]> {
  const indexed = indexedDependents(bead);
  if (!indexed) return scanDependents(rig, bead.id);
  if (indexed.length === 0) return [];
  const found = await rig.ledger.getMany<Bead>('beads', indexed);
  return found
    .filter((b) => b.value.blockedBy.includes(bead.id))
    .map((b) => b.id)
    .sort();
}

/**
 * The dependents of `bead` that are ready now (open, every blocker closed), most urgent
 * first: what closing `bead` may have freed. Reads only the dependents and their blockers.
 */
export async function readyDependentsOf(rig: Rig, bead: Bead): Promise<Bead[]> {
  const ids = await dependentsOf(rig, bead);
  if (ids.length === 0) return [];
  const deps = (await rig.ledger.getMany<Bead>('beads', ids)).map((v) => v.value);
  const blockerIds = sortedUnique(deps.flatMap((d) => d.blockedBy)).filter((id) => !ids.includes(id));
  const blockers = (await rig.ledger.getMany<Bead>('beads', blockerIds)).map((v) => v.value);
  const wanted = new Set(ids);
  return readyBeads([...deps, ...blockers]).filter((b) => wanted.has(b.id));
}

/**
 * Index changes inside one transaction attempt (make a new one per attempt: it remembers
 * the scan it made for a blocker that predates the index).
 */
export function indexWriter(rig: Rig, tx: Transaction) {
  let scanned: Promise<Bead[]> | null = null;
  const scan = async (id: string) => {
    scanned ??= rig.ledger.list<Bead>('beads').then((all) => all.map((v) => v.value));
    return (await scanned).filter((b) => b.blockedBy.includes(id)).map((b) => b.id);
  };
  return {
    /** `dependent` now waits on `blockerId`: listed in its index. False when there is no such blocker. */
    async link(blockerId: string, dependent: string): Promise<boolean> {
      const blocker = await tx.get<Bead>('beads', blockerId);
      if (!blocker) return false;
      const current = indexedDependents(blocker);
      if (current?.includes(dependent)) return true;
      const next = sortedUnique([...(current ?? (await scan(blockerId))), dependent]);
      tx.put<Bead>('beads', blockerId, { ...blocker, dependents: next }, `index beads/${blockerId}: ${dependent} waits on it`);
      return true;
    },
    /** `dependent` no longer waits on `blockerId`. A blocker without an index keeps none (its readers scan). */
    async unlink(blockerId: string, dependent: string): Promise<void> {
      const blocker = await tx.get<Bead>('beads', blockerId);
      const current = blocker && indexedDependents(blocker);
      if (!blocker || !current?.includes(dependent)) return;
      tx.put<Bead>(
        'beads',
        blockerId,
        { ...blocker, dependents: current.filter((d) => d !== dependent) },
        `index beads/${blockerId}: ${dependent} no longer waits on it`,
      );
    },
  };
}

export interface IndexProblem {
  bead: string;
  /** Waiting on the bead but not in its index (a reader would miss them). */
  missing: string[];
  /** In the index but not waiting on the bead (readers skip them). */
  extra: string[];
}

/** Checks every bead's index against the edges: wrong ones, and how many beads have none yet. */
export async function checkDependents(rig: Rig): Promise<{ wrong: IndexProblem[]; unindexed: string[]; beads: number }> {
  const beads = (await rig.ledger.list<Bead>('beads')).map((v) => v.value);
  const truth = computeDependents(beads);
  const wrong: IndexProblem[] = [];
  const unindexed: string[] = [];
  for (const b of beads) {
    const have = indexedDependents(b);
    if (!have) {
      unindexed.push(b.id);
      continue;
    }
    const want = truth.get(b.id) ?? [];
    const missing = want.filter((d) => !have.includes(d));
    const extra = have.filter((d) => !want.includes(d));
    if (missing.length || extra.length) wrong.push({ bead: b.id, missing, extra });
  }
  return { wrong, unindexed, beads: beads.length };
}

/**
 * Rebuilds the index of every bead whose index is wrong or missing (`gt doctor --fix`), in
 * compare-and-swap transactions of up to 500 beads. A bead whose index changed since the
 * listing (a writer got there meanwhile) keeps what that writer added: the result is the
 * computed set plus those, never less than the truth. Returns how many beads it wrote.
 */
export async function rebuildDependents(rig: Rig): Promise<number> {
  const listed = new Map((await rig.ledger.list<Bead>('beads')).map((v) => [v.id, v.value]));
  const truth = computeDependents([...listed.values()]);
  const todo = [...listed.values()].filter((b) => !equal(indexedDependents(b), truth.get(b.id) ?? [])).map((b) => b.id);
  let written = 0;
  for (let i = 0; i < todo.length; i += 500) {
    const chunk = todo.slice(i, i + 500);
    written += await rig.ledger.transact(
      async (tx) => {
        let n = 0;
        for (const id of chunk) {
          const now = await tx.get<Bead>('beads', id);
          if (!now) continue;
          const want = truth.get(id) ?? [];
          const seenThen = indexedDependents(listed.get(id)!);
          const have = indexedDependents(now);
          const next = have && !equal(have, seenThen) ? sortedUnique([...want, ...have.filter((d) => !seenThen?.includes(d))]) : want;
          if (equal(have, next)) continue;
          tx.put<Bead>('beads', id, { ...now, dependents: next }, `index beads/${id} (gt doctor --fix)`);
          n++;
        }
        return n;
      },
      { actor: 'gastown-doctor' },
    );
  }
  return written;
}

/**
 * Sync's second repair (after reconcileHooks): every bead the sync brought in or merged is
 * listed in the index of each of its blockers. Per-ref merging keeps each bead and each
 * index a set merge of both sides, but a bead and its blocker's index are two refs: a
 * clone running a gastown without the index changes `blockedBy` alone, and a delete
 * winning on one ref can meet an edit on another. Adding is all it does (a stale entry is
 * harmless, see above), so two clones making the same repair merge cleanly.
 */
export function repairAfterSync(rig: Rig): (changed: SyncedRef[]) => Promise<void> {
  return async (changed) => {
    const ids = [...new Set(changed.filter((c) => c.kind === 'beads').map((c) => c.id))];
    if (ids.length === 0) return;
    const beads = (await rig.ledger.getMany<Bead>('beads', ids)).map((v) => v.value);
    const blockerIds = sortedUnique(beads.flatMap((b) => b.blockedBy));
    const blockers = new Map((await rig.ledger.getMany<Bead>('beads', blockerIds)).map((v) => [v.id, v.value]));
    const needed = beads.flatMap((b) =>
      b.blockedBy
        .filter((x) => {
          const have = blockers.get(x) && indexedDependents(blockers.get(x)!);
          return have && !have.includes(b.id);
        })
        .map((x) => [x, b.id] as const),
    );
    if (needed.length === 0) return;
    await rig.ledger.transact(
      async (tx) => {
        const index = indexWriter(rig, tx);
        for (const [blocker, dependent] of needed) {
          const dep = await tx.get<Bead>('beads', dependent);
          if (dep?.blockedBy.includes(blocker)) await index.link(blocker, dependent);
        }
      },
      { actor: SYNC_ACTOR },
    );
  };
}
