import { GastownError } from '../errors.js';
import type { Versioned } from '../ledger/ledger.js';
import { applyBeadPatch, newBead } from '../town/bead.js';
import { assertNoCycleWith, blockersOf, readyBeads } from '../town/graph.js';
import { shortId, checkBeadId } from '../town/ids.js';
import { transitionBead } from '../town/lifecycle.js';
import type { Bead, BeadPatch, BeadStatus, NewBeadInput } from '../town/types.js';
import { BEAD_STATUSES } from '../town/types.js';
import { dependentsOf, indexWriter } from './dependents.js';
import type { Rig } from './rig.js';
import { feedRefs } from '../town/feed-refs.js';

/** Every bead (the ref files read in-process, plus the list cache). */
export async function allBeads(rig: Rig): Promise<Bead[]> {
  return (await rig.ledger.list<Bead>('beads')).map((v) => v.value);
}

export async function getBead(rig: Rig, id: string): Promise<Bead> {
  const found = await rig.ledger.get<Bead>('beads', checkBeadId(id));
  if (!found) throw new GastownError('gastown_not_found', `no bead ${id}`, { bead: id });
  return found.value;
}

/** A fresh, collision-checked bead id. */
export async function newBeadId(rig: Rig, title: string, taken: Set<string>): Promise<string> {
  return shortId('gt', rig.seed(title), (id) => taken.has(id), taken.size + 1);
}

export async function beadIds(rig: Rig): Promise<Set<string>> {
  const refs = await rig.ledger.refs('beads/');
  const base = `${rig.ledger.prefix}beads/`;
  return new Set([...refs.keys()].map((r) => r.slice(base.length)));
}

/**
 * A fresh bead id without listing the beads: the id's length is sized by a count of the
 * refs, and each candidate is looked up by its own ref (a deleted bead's id stays taken).
 */
async function freshBeadId(rig: Rig, title: string): Promise<string> {
  const population = (await rig.ledger.countRefs('beads/')) + 1;
  const seed = rig.seed(title);
  const taken = new Set<string>();
  for (;;) {
    const id = shortId('gt', seed, (x) => taken.has(x), population);
    if (!(await rig.ledger.exists('beads', id))) return id;
    taken.add(id);
  }
}

/**
 * Creates one bead; its blockers must exist (it is added to each one's dependents index in
 * the same transaction) and must not make a cycle.
 */
export async function createBead(rig: Rig, input: NewBeadInput): Promise<Bead> {
  const id = await freshBeadId(rig, input.title);
  const bead: Bead = { ...newBead(input, id, rig.at()), dependents: [] };
  if (bead.parent && !(await rig.ledger.exists('beads', bead.parent)))
    throw new GastownError('gastown_not_found', `unknown parent ${bead.parent}`);
  // A new bead can only close a cycle through its own edges, and nothing points at it yet.
  await rig.ledger.transact(
    async (tx) => {
      if (await tx.get('beads', id)) throw new GastownError('gastown_conflict', `bead ${id} already exists`);
      const index = indexWriter(rig, tx);
      const missing: string[] = [];
      for (const b of new Set(bead.blockedBy)) if (!(await index.link(b, id))) missing.push(b);
      if (missing.length) throw new GastownError('gastown_not_found', `unknown blocker ${missing.join(', ')}`, { missing });
      tx.put('beads', id, bead, `create beads/${id}`);
      rig.emit(tx, 'bead_created', `created ${id}: ${bead.title}`, { bead: id, convoy: bead.convoy });
    },
    { actor: rig.actor },
  );
  return bead;
}

export interface BeadFilter {
  status?: BeadStatus;
  convoy?: string;
}

export async function listBeads(rig: Rig, filter: BeadFilter = {}): Promise<Bead[]> {
  if (filter.status && !BEAD_STATUSES.includes(filter.status))
    throw new GastownError('gastown_bad_input', `unknown status ${filter.status} (one of ${BEAD_STATUSES.join(', ')})`);
  let beads = await allBeads(rig);
  if (filter.status) beads = beads.filter((b) => b.status === filter.status);
  if (filter.convoy) {
    const convoy = await rig.ledger.get<{ beads: string[] }>('convoys', filter.convoy);
    if (!convoy) throw new GastownError('gastown_not_found', `no convoy ${filter.convoy}`);
    const members = new Set(convoy.value.beads);
    beads = beads.filter((b) => members.has(b.id));
  }
  return beads.sort((a, b) => a.priority - b.priority || a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}

export interface BeadDetail {
  bead: Bead;
  blockers: { id: string; status: BeadStatus | 'missing'; title: string | null }[];
  dependents: string[];
  ready: boolean;
}

export async function showBead(rig: Rig, id: string): Promise<BeadDetail> {
  const bead = await getBead(rig, id);
  const blockers = await rig.ledger.getMany<Bead>('beads', bead.blockedBy);
  const byId = new Map(blockers.map((b) => [b.id, b.value]));
  const { open, missing } = blockersOf(bead, byId);
  // From the bead's own dependents index (rig/dependents.ts), not a scan of every bead.
  const dependents = await dependentsOf(rig, bead);
  return {
    bead,
    blockers: bead.blockedBy.map((b) => ({ id: b, status: byId.get(b)?.status ?? 'missing', title: byId.get(b)?.title ?? null })),
    dependents,
    ready: bead.status === 'open' && open.length === 0 && missing.length === 0,
  };
}

/**
 * Reads a bead, applies `change` and writes it back with compare-and-swap, retrying on a
 * lost race; also writes a feed event in the same transaction.
 */
export async function mutateBead(
  rig: Rig,
  id: string,
  change: (bead: Bead) => Bead,
  event?: { type: Parameters<Rig['emit']>[1]; message: (b: Bead) => string },
): Promise<Bead> {
  checkBeadId(id);
  return rig.ledger.transact(
    async (tx) => {
      const bead = await tx.get<Bead>('beads', id);
      if (!bead) throw new GastownError('gastown_not_found', `no bead ${id}`, { bead: id });
      const next = change(bead);
      if (next === bead) return bead;
      tx.put('beads', id, next, `${event?.type ?? 'update'} beads/${id}`);
      if (event) rig.emit(tx, event.type, event.message(next), feedRefs(next, next.pr?.url ?? next.issue?.url ?? null));
      return next;
    },
    { actor: rig.actor },
  );
}

export function updateBead(rig: Rig, id: string, patch: BeadPatch): Promise<Bead> {
  return mutateBead(rig, id, (b) => applyBeadPatch(b, patch, rig.at()), { type: 'bead_updated', message: (b) => `updated ${b.id}` });
}

export function closeBead(rig: Rig, id: string, reason?: string): Promise<Bead> {
  return mutateBead(rig, id, (b) => transitionBead(b, 'closed', rig.at(), { closeReason: reason ?? null }), {
    type: 'bead_closed',
    message: (b) => `closed ${b.id}${reason ? `: ${reason}` : ''}`,
  });
}

export function reopenBead(rig: Rig, id: string): Promise<Bead> {
  return mutateBead(rig, id, (b) => transitionBead(b, 'open', rig.at()), { type: 'bead_reopened', message: (b) => `reopened ${b.id}` });
}

/**
 * Adds a `blocks` edge: `blocker` must close before `bead` is ready. Rejects cycles. The
 * blocker's dependents index changes in the same transaction, and the cycle check reads
 * inside it, so of two concurrent edges closing a cycle (both write both beads) the one
 * that re-runs sees the other and is refused.
 */
export async function addDependency(rig: Rig, beadId: string, blockerId: string): Promise<Bead> {
  checkBeadId(beadId);
  checkBeadId(blockerId);
  if (beadId === blockerId) throw new GastownError('gastown_cycle', `${beadId} cannot block itself`);
  return rig.ledger.transact(
    async (tx) => {
      if (!(await tx.get<Bead>('beads', blockerId))) throw new GastownError('gastown_not_found', `no bead ${blockerId}`);
      const bead = await tx.get<Bead>('beads', beadId);
      if (!bead) throw new GastownError('gastown_not_found', `no bead ${beadId}`, { bead: beadId });
      assertNoCycleWith(await ancestorsOf(rig, blockerId, beadId), beadId, [blockerId]);
      let next = bead;
      if (!bead.blockedBy.includes(blockerId)) {
        next = { ...bead, blockedBy: [...bead.blockedBy, blockerId], updatedAt: rig.at() };
        tx.put('beads', beadId, next, `bead_updated beads/${beadId}`);
        rig.emit(tx, 'bead_updated', `${beadId} now blocked by ${blockerId}`, feedRefs(next, next.pr?.url ?? next.issue?.url ?? null));
      }
      // Also when the edge was there already: an index that missed it is mended.
      await indexWriter(rig, tx).link(blockerId, beadId);
      return next;
    },
    { actor: rig.actor },
  );
}

/**
 * `start` and every bead it waits on, transitively (what a new edge to `start` could close
 * a cycle through): read level by level, stopping once `target` is reached.
 */
async function ancestorsOf(rig: Rig, start: string, target: string): Promise<Bead[]> {
  const seen = new Map<string, Bead>();
  let frontier = [start];
  while (frontier.length) {
    const found = await rig.ledger.getMany<Bead>('beads', frontier);
    const next = new Set<string>();
    for (const { id, value } of found) seen.set(id, value);
    if (seen.has(target)) break;
    for (const { value } of found) for (const b of value.blockedBy) if (!seen.has(b)) next.add(b);
    frontier = [...next];
  }
  return [...seen.values()];
}

export async function removeDependency(rig: Rig, beadId: string, blockerId: string): Promise<Bead> {
  checkBeadId(beadId);
  checkBeadId(blockerId);
  return rig.ledger.transact(
    async (tx) => {
      const bead = await tx.get<Bead>('beads', beadId);
      if (!bead) throw new GastownError('gastown_not_found', `no bead ${beadId}`, { bead: beadId });
      if (!bead.blockedBy.includes(blockerId)) throw new GastownError('gastown_not_found', `${beadId} is not blocked by ${blockerId}`);
      const next = { ...bead, blockedBy: bead.blockedBy.filter((x) => x !== blockerId), updatedAt: rig.at() };
      tx.put('beads', beadId, next, `bead_updated beads/${beadId}`);
      rig.emit(tx, 'bead_updated', `${beadId} no longer blocked by ${blockerId}`, feedRefs(next, next.pr?.url ?? next.issue?.url ?? null));
      await indexWriter(rig, tx).unlink(blockerId, beadId);
      return next;
    },
    { actor: rig.actor },
  );
}

export async function readyList(rig: Rig): Promise<Bead[]> {
  return readyBeads(await allBeads(rig));
}

export type { Versioned };
