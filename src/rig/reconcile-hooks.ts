import type { MergeScope, SyncedRef } from '../ledger/sync-ledger.js';
import type { Bead, Hook } from '../town/types.js';
import type { Rig } from './rig.js';

const SYNC_ACTOR = 'gastown-sync';

/**
 * True when `hook` really holds its bead: the bead names the hook's polecat as assignee. A
 * hook naming a bead that is assigned elsewhere (or gone) is a leftover, e.g. of two clones
 * slinging one bead offline to different polecats: that polecat is free.
 */
export function holdsBead(hook: Hook, bead: Bead | null | undefined): boolean {
  return !!hook.bead && !!bead && bead.assignee === hook.agent;
}

/**
 * Sync's `afterMerge` for a rig: one bead on at most one hook. Per-ref merging keeps each
 * entity consistent but not the pair bead + hook that a sling writes together: two clones
 * that slung the same bead to different polecats end with one merged bead (one assignee)
 * and two hooks naming it. Every hook naming a bead that exists here and is assigned to
 * another polecat (or to none) is cleared, in one transaction that sync then pushes with
 * its merges. Deterministic: the merged bead is the same on every clone, so every clone
 * clears the same hook, and the two clearings merge cleanly.
 *
 * Which hooks are looked at: after a full comparison, all of them (one per polecat, from
 * the list cache), so a repair that failed once, or a leftover written by a clone without
 * this repair, is made by the next full sync (one runs at least every five minutes). After
 * a scoped sync only the hooks this sync can have made leftovers of (see hooksToCheck):
 * that sync started from refs exactly as the previous sync left them, after its repairs.
 */
export function reconcileHooks(rig: Rig): (changed: SyncedRef[], scope?: MergeScope) => Promise<void> {
  return async (changed, scope) => {
    const named = scope?.scoped ? await hooksToCheck(rig, changed) : null;
    const hooks = named ? await rig.ledger.getMany<Hook>('hooks', named) : await rig.ledger.list<Hook>('hooks');
    const loaded = hooks.filter((h) => h.value.bead);
    if (loaded.length === 0) return;
    const ids = [...new Set(loaded.map((h) => h.value.bead!))];
    const beads = new Map((await rig.ledger.getMany<Bead>('beads', ids)).map((b) => [b.id, b.value]));
    const suspects = loaded.filter((h) => isLeftover(h.value, beads.get(h.value.bead!))).map((h) => h.id);
    if (suspects.length === 0) return;
    const actor = rig.withActor(SYNC_ACTOR);
    await rig.ledger.transact(
      async (tx) => {
        for (const name of suspects) {
          const hook = await tx.get<Hook>('hooks', name);
          if (!hook?.bead) continue;
          const bead = await tx.get<Bead>('beads', hook.bead);
          if (!isLeftover(hook, bead)) continue;
          tx.put<Hook>('hooks', name, { ...hook, bead: null, slungAt: null, slungBy: null }, `reconcile hooks/${name}`);
          actor.emit(
            tx,
            'bead_unslung',
            `${hook.bead} taken off ${name}'s hook after sync: ${bead?.assignee ? `it is on ${bead.assignee}'s` : 'it is on no polecat'}`,
            { bead: hook.bead, convoy: bead?.convoy ?? null, url: bead?.issue?.url ?? null },
          );
        }
      },
      { actor: SYNC_ACTOR },
    );
  };
}

/**
 * The hooks a scoped sync can have turned into leftovers, or null to look at all of them.
 * Before it no hook was a leftover, except ones naming a bead not here yet (a leftover is a
 * hook H naming a bead B that is here and assigned to another polecat; the previous sync's
 * repair cleared those, and nothing here moved since). A hook and bead that both kept
 * their values keep that status, so a new leftover has H or B among the refs this sync
 * changed. H changed: it is checked. B changed, H not: H named B before the sync too, so
 * either B was here and assigned to H's polecat, whose hook is `hooks/<B's assignee
 * before>` (checked, with B's assignee now), or B was not here before: a bead this sync
 * created, whose hooks cannot be found without looking at all of them (null).
 */
async function hooksToCheck(rig: Rig, changed: SyncedRef[]): Promise<string[] | null> {
  const names = new Set<string>();
  for (const c of changed) {
    if (c.kind === 'hooks') names.add(c.id);
    if (c.kind !== 'beads') continue;
    if (c.how === 'created' || !c.before) return null;
    const [now, before] = await Promise.all([rig.ledger.get<Bead>('beads', c.id), rig.ledger.readCommit(c.before, 'beads')]);
    for (const value of [now?.value, before?.value as Bead | null | undefined])
      if (value && typeof value.assignee === 'string' && value.assignee) names.add(value.assignee);
  }
  return [...names];
}

/** A hook naming a bead we have that names another polecat (a bead not synced here yet is left alone). */
function isLeftover(hook: Hook, bead: Bead | null | undefined): boolean {
  return !!hook.bead && !!bead && bead.assignee !== hook.agent;
}
