import type { SyncedRef } from '../ledger/sync-ledger.js';
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
 * its merges. All hooks are looked at, not only the ones this sync changed (one per
 * polecat, read from the list cache), so a repair that failed once is made by the next
 * sync. Deterministic: the merged bead is the same on every clone, so every clone clears
 * the same hook, and the two clearings merge cleanly.
 */
export function reconcileHooks(rig: Rig): (changed: SyncedRef[]) => Promise<void> {
  return async () => {
    const loaded = (await rig.ledger.list<Hook>('hooks')).filter((h) => h.value.bead);
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

/** A hook naming a bead we have that names another polecat (a bead not synced here yet is left alone). */
function isLeftover(hook: Hook, bead: Bead | null | undefined): boolean {
  return !!hook.bead && !!bead && bead.assignee !== hook.agent;
}
