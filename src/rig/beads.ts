import { GastownError } from '../errors.js';
import type { Versioned } from '../ledger/ledger.js';
import { applyBeadPatch, newBead } from '../town/bead.js';
import { assertNoCycleWith, blockersOf, readyBeads } from '../town/graph.js';
import { shortId } from '../town/ids.js';
import { transitionBead } from '../town/lifecycle.js';
import type { Bead, BeadPatch, BeadStatus, NewBeadInput } from '../town/types.js';
import { BEAD_STATUSES } from '../town/types.js';
import type { Rig } from './rig.js';

/** Every bead (one `for-each-ref` plus the list cache). */
export async function allBeads(rig: Rig): Promise<Bead[]> {
  return (await rig.ledger.list<Bead>('beads')).map((v) => v.value);
}

export async function getBead(rig: Rig, id: string): Promise<Bead> {
  const found = await rig.ledger.get<Bead>('beads', checkBeadId(id));
  if (!found) throw new GastownError('gastown_not_found', `no bead ${id}`, { bead: id });
  return found.value;
}

export function checkBeadId(id: string): string {
  if (!/^gt-[0-9a-z]{3,}$/.test(id)) throw new GastownError('gastown_bad_input', `not a bead id: ${JSON.stringify(id)} (bead ids look like gt-1a2b)`);
  return id;
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

/** Creates one bead; its blockers must exist and must not make a cycle. */
export async function createBead(rig: Rig, input: NewBeadInput): Promise<Bead> {
  const taken = await beadIds(rig);
  const id = await newBeadId(rig, input.title, taken);
  const bead = newBead(input, id, rig.at());
  const missing = bead.blockedBy.filter((b) => !taken.has(b));
  if (missing.length) throw new GastownError('gastown_not_found', `unknown blocker ${missing.join(', ')}`, { missing });
  if (bead.parent && !taken.has(bead.parent)) throw new GastownError('gastown_not_found', `unknown parent ${bead.parent}`);
  // A new bead can only close a cycle through its own edges, and nothing points at it yet.
  await rig.ledger.transact(
    async (tx) => {
      if (await tx.get('beads', id)) throw new GastownError('gastown_conflict', `bead ${id} already exists`);
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
  // Dependents need the whole graph; the cached list makes that one file read.
  const dependents = (await allBeads(rig)).filter((b) => b.blockedBy.includes(id)).map((b) => b.id);
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
      if (event) rig.emit(tx, event.type, event.message(next), { bead: id, convoy: next.convoy, url: next.pr?.url ?? next.issue?.url ?? null });
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

/** Adds a `blocks` edge: `blocker` must close before `bead` is ready. Rejects cycles. */
export async function addDependency(rig: Rig, beadId: string, blockerId: string): Promise<Bead> {
  checkBeadId(beadId);
  checkBeadId(blockerId);
  if (beadId === blockerId) throw new GastownError('gastown_cycle', `${beadId} cannot block itself`);
  const all = await allBeads(rig);
  if (!all.some((b) => b.id === blockerId)) throw new GastownError('gastown_not_found', `no bead ${blockerId}`);
  assertNoCycleWith(all, beadId, [blockerId]);
  return mutateBead(
    rig,
    beadId,
    (b) => (b.blockedBy.includes(blockerId) ? b : { ...b, blockedBy: [...b.blockedBy, blockerId], updatedAt: rig.at() }),
    { type: 'bead_updated', message: (b) => `${b.id} now blocked by ${blockerId}` },
  );
}

export function removeDependency(rig: Rig, beadId: string, blockerId: string): Promise<Bead> {
  checkBeadId(blockerId);
  return mutateBead(
    rig,
    beadId,
    (b) => {
      if (!b.blockedBy.includes(blockerId)) throw new GastownError('gastown_not_found', `${beadId} is not blocked by ${blockerId}`);
      return { ...b, blockedBy: b.blockedBy.filter((x) => x !== blockerId), updatedAt: rig.at() };
    },
    { type: 'bead_updated', message: (b) => `${b.id} no longer blocked by ${blockerId}` },
  );
}

export async function readyList(rig: Rig): Promise<Bead[]> {
  return readyBeads(await allBeads(rig));
}

export type { Versioned };
