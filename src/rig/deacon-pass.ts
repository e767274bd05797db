import { allBeads } from './beads.js';
import type { Rig } from './rig.js';
import { mailInTx } from './work.js';
import { transitionBead } from '../town/lifecycle.js';
import type { Bead, Heartbeat, Hook } from '../town/types.js';
import { feedRefs } from '../town/feed-refs.js';

export const DEACON_ACTOR = 'deacon';

export interface DeaconPassResult {
  /** Beads made claimable again. */
  stalled: string[];
  /** Beads the mayor was told about (stalled again and again). */
  escalated: string[];
}

export interface DeaconOptions {
  /** Mail the mayor once a stalled bead has had this many attempts. Default settings.retryCap. */
  escalateAfter?: number;
  /**
   * Runners known to be gone (a finished GitHub Actions run, `gha-<run id>`): their beads
   * count as stalled at once, without waiting out the lease.
   */
  deadRunners?: readonly string[];
}

function silent(beat: Heartbeat | null, bead: Bead, now: number, leaseMs: number, dead: ReadonlySet<string>): boolean {
  return !beat || beat.bead !== bead.id || dead.has(beat.runner) || now - Date.parse(beat.at) > leaseMs;
}

/**
 * The watchdog's one pass: an in-progress bead whose runner has been silent past the lease
 * goes back to hooked on the same polecat (its pushed branch is kept), so any runner can
 * claim it at once; feed `stalled`. A bead that has stalled after `escalateAfter` attempts
 * also gets the mayor mail. Each bead is one transaction that re-checks the heartbeat, so a
 * runner that beats in between keeps its bead.
 */
export async function deaconPass(rig: Rig, opts: DeaconOptions = {}): Promise<DeaconPassResult> {
  const escalateAfter = opts.escalateAfter ?? Math.max(1, rig.settings.retryCap);
  const out: DeaconPassResult = { stalled: [], escalated: [] };
  const leaseMs = rig.settings.leaseMs;
  const dead = new Set(opts.deadRunners ?? []);
  const beats = new Map((await rig.ledger.list<Heartbeat>('heartbeats')).map((h) => [h.id, h.value]));
  const now = rig.now().getTime();
  const suspects = (await allBeads(rig)).filter(
    (b) => b.status === 'in_progress' && b.assignee && silent(beats.get(b.assignee) ?? null, b, now, leaseMs, dead),
  );
  for (const suspect of suspects) {
    const r = await rig.ledger.transact(
      async (tx) => {
        const bead = await tx.get<Bead>('beads', suspect.id);
        if (!bead || bead.status !== 'in_progress' || !bead.assignee) return null;
        const polecat = bead.assignee;
        const beat = await tx.get<Heartbeat>('heartbeats', polecat);
        if (!silent(beat, bead, rig.now().getTime(), leaseMs, dead)) return null;
        const last = beat?.bead === bead.id ? `last heartbeat ${beat.at} from ${beat.runner}` : 'no heartbeat';
        tx.put('beads', bead.id, transitionBead(bead, 'hooked', rig.at(), { assignee: polecat }), `stalled beads/${bead.id}`);
        if (beat) tx.delete('heartbeats', polecat);
        // Always slung anew (a fresh slungAt): on GitHub that is what makes the bead due for
        // another workflow run, since a run is recorded per sling.
        tx.put<Hook>('hooks', polecat, { agent: polecat, bead: bead.id, slungAt: rig.at(), slungBy: DEACON_ACTOR });
        rig.emit(tx, 'stalled', `${polecat} went silent on ${bead.id} (${last}); it is claimable again`, feedRefs(bead));
        const escalate = bead.attempts >= escalateAfter;
        if (escalate)
          mailInTx(rig, tx, {
            from: DEACON_ACTOR,
            to: 'mayor',
            subject: `STALLED ${bead.id}: ${bead.title}`.slice(0, 200),
            body: `${bead.id} stalled after ${bead.attempts} attempts (${last}). It is back on ${polecat}'s hook; consider unslinging or rewriting it.`,
            type: 'BEAD_STALLED',
            bead: bead.id,
          });
        return { escalate };
      },
      { actor: DEACON_ACTOR },
    );
    if (!r) continue;
    out.stalled.push(suspect.id);
    if (r.escalate) out.escalated.push(suspect.id);
  }
  return out;
}
