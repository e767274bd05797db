import { convoyProgress } from '../town/convoy.js';
import { readyBeads } from '../town/graph.js';
import type { Agent, Bead, BeadStatus, Convoy, ConvoyProgress, Heartbeat, Hook } from '../town/types.js';
import { BEAD_STATUSES } from '../town/types.js';
import { holdsBead } from './reconcile-hooks.js';
import type { Rig } from './rig.js';

export interface PolecatView {
  name: string;
  bead: string | null;
  beadTitle: string | null;
  status: BeadStatus | null;
  lastBeat: string | null;
  stale: boolean;
  beadsDone: number;
}

export interface RigStatus {
  beads: Record<BeadStatus, number> & { total: number; ready: number };
  convoys: { convoy: Convoy; progress: ConvoyProgress }[];
  polecats: PolecatView[];
  remote: string | null;
}

/** The whole rig at a glance, read with a handful of batched calls. */
export async function rigStatus(rig: Rig): Promise<RigStatus> {
  const [beads, convoys, agents, hookList, beats] = await Promise.all([
    rig.ledger.list<Bead>('beads'),
    rig.ledger.list<Convoy>('convoys'),
    rig.ledger.list<Agent>('agents'),
    rig.ledger.list<Hook>('hooks'),
    rig.ledger.list<Heartbeat>('heartbeats'),
  ]);
  const all = beads.map((b) => b.value);
  const counts = Object.fromEntries(BEAD_STATUSES.map((s) => [s, 0])) as Record<BeadStatus, number>;
  for (const b of all) counts[b.status]++;
  const byId = new Map(all.map((b) => [b.id, b]));
  const hookOf = new Map(hookList.map((h) => [h.value.agent, h.value]));
  const beatOf = new Map(beats.map((h) => [h.value.agent, h.value]));
  const now = rig.now().getTime();
  const polecats = agents
    .map((a) => a.value)
    .filter((a) => a.role === 'polecat')
    .map((a) => {
      const hook = hookOf.get(a.name);
      // A leftover hook (its bead assigned to another polecat) leaves the polecat free.
      const bead = hook?.bead && holdsBead(hook, byId.get(hook.bead)) ? hook.bead : null;
      const beat = beatOf.get(a.name);
      const b = bead ? byId.get(bead) : undefined;
      return {
        name: a.name,
        bead,
        beadTitle: b?.title ?? null,
        status: b?.status ?? null,
        lastBeat: beat?.at ?? null,
        stale: !!(b?.status === 'in_progress' && (!beat || now - Date.parse(beat.at) > rig.settings.leaseMs)),
        beadsDone: a.beadsDone,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  return {
    beads: { ...counts, total: all.length, ready: readyBeads(all).length },
    convoys: convoys
      .map((c) => ({ convoy: c.value, progress: convoyProgress(c.value, all) }))
      .sort((a, b) => b.convoy.createdAt.localeCompare(a.convoy.createdAt)),
    polecats,
    remote: rig.settings.remote,
  };
}
