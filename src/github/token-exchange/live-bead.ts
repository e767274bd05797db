/**
 * Whether a workflow run is the one the app dispatched for a bead that is still waiting for
 * it, by the ledger's dispatch bookkeeping (`github/dispatch-beads.ts`): the bead is hooked,
 * its hook's current sling carries the `dispatched:<polecat>@<slungAt>` label the app adds
 * once it has dispatched that sling's run, and the run was created after that sling (a run
 * of an earlier sling of the same bead gets nothing). A bead the run has already claimed
 * (in progress, with this run's runner id `gha-<run id>` on its heartbeat) counts too: the
 * job may ask again after a failed step. Returns null when live, else why not.
 */
import type { Rig } from '../../rig/rig.js';
import type { Bead, Heartbeat, Hook } from '../../town/types.js';

/** GitHub's clock and ours may differ a little. */
const CLOCK_SKEW_MS = 60_000;

export interface RunOfBead {
  id: number;
  createdAt: string;
}

export async function whyNotLive(rig: Rig, beadId: string, run: RunOfBead): Promise<string | null> {
  const bead = (await rig.ledger.get<Bead>('beads', beadId))?.value;
  if (!bead) return `there is no bead ${beadId} in the ledger`;
  if (bead.status === 'in_progress' && bead.assignee) {
    const beat = (await rig.ledger.get<Heartbeat>('heartbeats', bead.assignee))?.value;
    if (beat?.bead === bead.id && beat.runner === `gha-${run.id}`) return null;
    return `bead ${beadId} is in progress on another runner`;
  }
  if (bead.status !== 'hooked' || !bead.assignee) return `bead ${beadId} is ${bead.status.replace('_', ' ')}, not waiting for a polecat run`;
  const hook = (await rig.ledger.get<Hook>('hooks', bead.assignee))?.value;
  if (!hook || hook.bead !== bead.id) return `bead ${beadId} is not on ${bead.assignee}'s hook`;
  const slungAt = hook.slungAt ?? bead.updatedAt;
  if (!bead.labels.includes(`dispatched:${bead.assignee}@${slungAt}`)) return `the app has not dispatched a run for bead ${beadId}'s current sling`;
  const created = Date.parse(run.createdAt);
  if (!Number.isFinite(created) || created < Date.parse(slungAt) - CLOCK_SKEW_MS) return `run ${run.id} was created before bead ${beadId}'s current sling`;
  return null;
}
