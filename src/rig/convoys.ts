import { GastownError } from '../errors.js';
import { convoyProgress, newConvoy, type NewConvoyInput } from '../town/convoy.js';
import { checkConvoyId, shortId } from '../town/ids.js';
import type { Bead, Convoy, ConvoyProgress } from '../town/types.js';
import { allBeads } from './beads.js';
import type { Rig } from './rig.js';

export async function getConvoy(rig: Rig, id: string): Promise<Convoy> {
  const found = await rig.ledger.get<Convoy>('convoys', checkConvoyId(id));
  if (!found) throw new GastownError('gastown_not_found', `no convoy ${id}`);
  return found.value;
}

async function convoyIds(rig: Rig): Promise<Set<string>> {
  const refs = await rig.ledger.refs('convoys/');
  const base = `${rig.ledger.prefix}convoys/`;
  return new Set([...refs.keys()].map((r) => r.slice(base.length)));
}

/** Groups existing beads into a new convoy; each bead records its convoy. */
export async function createConvoy(
  rig: Rig,
  title: string,
  beadIds: string[],
  extra: Omit<NewConvoyInput, 'title' | 'beads'> = {},
): Promise<Convoy> {
  if (beadIds.length === 0) throw new GastownError('gastown_bad_input', 'a convoy needs at least one bead');
  const taken = await convoyIds(rig);
  const id = shortId('cv', rig.seed(title), (x) => taken.has(x), taken.size + 1);
  const convoy = newConvoy({ title, beads: [...new Set(beadIds)], ...extra }, id, rig.at());
  await rig.ledger.transact(
    async (tx) => {
      for (const b of convoy.beads) {
        const bead = await tx.get<Bead>('beads', b);
        if (!bead) throw new GastownError('gastown_not_found', `no bead ${b}`);
        if (bead.convoy && bead.convoy !== id)
          throw new GastownError('gastown_conflict', `bead ${b} already belongs to convoy ${bead.convoy}`);
        tx.put('beads', b, { ...bead, convoy: id, updatedAt: rig.at() });
      }
      tx.put('convoys', id, convoy, `create convoys/${id}`);
      rig.emit(tx, 'convoy_planned', `convoy ${id} "${convoy.title}" with ${convoy.beads.length} beads`, { convoy: id });
    },
    { actor: rig.actor },
  );
  return convoy;
}

export async function listConvoys(rig: Rig): Promise<{ convoy: Convoy; progress: ConvoyProgress }[]> {
  const [convoys, beads] = await Promise.all([rig.ledger.list<Convoy>('convoys'), allBeads(rig)]);
  return convoys
    .map((c) => ({ convoy: c.value, progress: convoyProgress(c.value, beads) }))
    .sort((a, b) => b.convoy.createdAt.localeCompare(a.convoy.createdAt));
}

export interface ConvoyStatusView {
  convoy: Convoy;
  progress: ConvoyProgress;
  beads: Bead[];
  edges: { from: string; to: string }[];
}

/** A convoy with its beads and the `blocks` edges among them (blocker → blocked). */
export async function convoyStatus(rig: Rig, id: string): Promise<ConvoyStatusView> {
  const convoy = await getConvoy(rig, id);
  const beads = (await rig.ledger.getMany<Bead>('beads', convoy.beads)).map((v) => v.value);
  const members = new Set(convoy.beads);
  const edges = beads.flatMap((b) => b.blockedBy.filter((x) => members.has(x)).map((x) => ({ from: x, to: b.id })));
  return { convoy, progress: convoyProgress(convoy, beads), beads, edges };
}

export async function mutateConvoy(
  rig: Rig,
  id: string,
  change: (c: Convoy) => Convoy,
  event?: { type: Parameters<Rig['emit']>[1]; message: string },
): Promise<Convoy> {
  checkConvoyId(id);
  return rig.ledger.transact(
    async (tx) => {
      const c = await tx.get<Convoy>('convoys', id);
      if (!c) throw new GastownError('gastown_not_found', `no convoy ${id}`);
      const next = change(c);
      if (next === c) return c;
      tx.put('convoys', id, next);
      if (event) rig.emit(tx, event.type, event.message, { convoy: id });
      return next;
    },
    { actor: rig.actor },
  );
}
