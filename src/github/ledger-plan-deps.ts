/**
 * The real services behind the GitHub flows, over one repository's ledger mirror: the plan
 * deps (flow 1) and the work deps (flows 2 and 4). Convoys planned from an issue have the
 * source key `github:<owner>/<repo>#<issue>`.
 */
import { GastownError } from '../errors.js';
import { stopConvoy as stopConvoyInRig } from '../rig/convoy-control.js';
import { allBeads, mutateBead } from '../rig/beads.js';
import { githubSourceKey } from '../rig/github-keys.js';
import {
  approveConvoy,
  findConvoyBySource,
  markMaterialised,
  recordBeadIssue,
  recordPlan,
  recordPlanFailure,
  recordStatusComment,
} from '../rig/record-plan.js';
import { recordMerged, recordRejected } from '../rig/advance.js';
import type { Rig } from '../rig/rig.js';
import { hooks } from '../rig/sling.js';
import { dispatchable, dispatchReady, mailInTx } from '../rig/work.js';
import { DEACON_ACTOR, deaconPass } from '../rig/deacon-pass.js';
import type { Bead, Convoy, Hook } from '../town/types.js';
import type { RepoLedgerSession } from './ledger-mirror.js';
import type { Mayor, ParentIssueKey, PlanIssueDeps, RecordedConvoy } from './plan-issue-deps.js';
import type { DispatchOptions, PendingDispatch, WorkDeps } from './work-deps.js';

const DISPATCHED = 'dispatched:';
const RUN_ENDED = 'run-ended:';
/** GitHub's clock and ours may differ a little; a run is never created before its sling by more. */
const CLOCK_SKEW_MS = 60_000;

/** The label recording that a sling's workflow run was dispatched. */
function dispatchKey(polecat: string, slungAt: string): string {
  return `${DISPATCHED}${polecat}@${slungAt}`;
}

function sourceKey(key: ParentIssueKey): string {
  return githubSourceKey(key.repo, key.issueNumber);
}

export async function recordedConvoy(rig: Rig, convoyId: string): Promise<RecordedConvoy | null> {
  const found = await rig.ledger.get<Convoy>('convoys', convoyId);
  if (!found) return null;
  const beads = await rig.ledger.getMany<Bead>('beads', found.value.beads);
  return { convoy: found.value, beads: beads.map((b) => b.value) };
}

async function mustConvoy(rig: Rig, convoyId: string): Promise<RecordedConvoy> {
  const found = await recordedConvoy(rig, convoyId);
  if (!found) throw new GastownError('gastown_not_found', `no convoy ${convoyId}`);
  return found;
}

export function ledgerPlanDeps(session: RepoLedgerSession, mayor: Mayor, clock: () => Date = () => new Date()): PlanIssueDeps {
  const { rig } = session;
  return {
    mayor,
    findConvoy: (key) => findConvoyBySource(rig, sourceKey(key)),
    recordPlan: async (input) => {
      const recorded = await recordPlan(rig, {
        sourceKey: sourceKey(input.key),
        title: input.title,
        source: input.source,
        plan: input.plan,
        planner: input.planner,
        usage: input.usage,
        requireApproval: input.requireApproval,
      });
      // The plan reaches the repository's ledger before anything is written to GitHub.
      await session.sync();
      return recorded;
    },
    recordLink: (beadId, link) => recordBeadIssue(rig, beadId, link),
    recordStatusComment: async (convoyId, commentId) => {
      await recordStatusComment(rig, convoyId, commentId);
    },
    approve: async (convoyId, login) => {
      await approveConvoy(rig.withActor(login), convoyId, login);
      return mustConvoy(rig, convoyId);
    },
    markMaterialised: async (convoyId) => {
      await markMaterialised(rig, convoyId);
    },
    recordFailure: (failure) =>
      recordPlanFailure(rig, { sourceKey: sourceKey(failure.key), convoyId: failure.convoyId, code: failure.code, message: failure.message }),
    clock,
  };
}

/** Convoys whose beads may run on GitHub: active, and every bead has its child issue. */
function onGitHub(convoy: Convoy | undefined): boolean {
  return !!convoy && convoy.status === 'active' && convoy.source?.kind === 'github' && !!convoy.materialisedAt;
}

export function ledgerWorkDeps(session: RepoLedgerSession): WorkDeps {
  const { rig } = session;
  return {
    pendingDispatch: async (cap, opts = {}) => {
      // The Deacon first: a polecat run that died mid-bead leaves it in progress; once its
      // lease ran out (or its run is known to be over) it is slung anew and dispatched again.
      await deaconPass(rig.withActor(DEACON_ACTOR), { deadRunners: opts.deadRunners });
      if (opts.endedRun) await reslingAfterEndedRun(rig.withActor(DEACON_ACTOR), opts.endedRun);
      const convoys = new Map((await rig.ledger.list<Convoy>('convoys')).map((c) => [c.id, c.value]));
      const ours = (b: Bead) => !!b.convoy && onGitHub(convoys.get(b.convoy));
      const beads = await allBeads(rig);
      let busy = beads.filter((b) => b.status === 'hooked' || b.status === 'in_progress').length;
      // Only beads mirrored on GitHub are slung here: a convoy still being materialised waits.
      if (busy < cap) {
        for (const bead of (await dispatchable(rig, beads)).filter(ours)) {
          busy += (await dispatchReady(rig, { cap, only: bead.id })).length;
          if (busy >= cap) break;
        }
      }
      const slungAt = new Map((await hooks(rig)).map((h) => [h.agent, h.slungAt] as const));
      const pending: PendingDispatch[] = [];
      for (const bead of await allBeads(rig)) {
        if (bead.status !== 'hooked' || !bead.assignee || !ours(bead)) continue;
        // Runs that keep dying are not dispatched for ever: past the retry cap the bead waits
        // on its hook for a person (the Deacon has mailed the mayor).
        if (bead.attempts > rig.settings.retryCap) continue;
        const key = dispatchKey(bead.assignee, slungAt.get(bead.assignee) ?? bead.updatedAt);
        if (!bead.labels.includes(key)) pending.push({ bead, polecat: bead.assignee, key });
      }
      return pending.sort((a, b) => a.bead.priority - b.bead.priority || a.bead.createdAt.localeCompare(b.bead.createdAt) || a.bead.id.localeCompare(b.bead.id));
    },
    publish: () => session.sync(),
    markDispatched: async (pending) => {
      await mutateBead(
        rig,
        pending.bead.id,
        (b) =>
          b.labels.includes(pending.key) || b.assignee !== pending.polecat
            ? b
            : { ...b, labels: [...b.labels.filter((l) => !l.startsWith(DISPATCHED)), pending.key], updatedAt: rig.at() },
        { type: 'bead_updated', message: (b) => `workflow run dispatched for ${b.id} (${pending.polecat})` },
      );
    },
    findBead: async (id) => (await rig.ledger.get<Bead>('beads', id))?.value ?? null,
    findConvoyById: (id) => recordedConvoy(rig, id),
    recordMerged: (beadId, url) => recordMerged(rig, beadId, { url }),
    readyDependents: async (beadId) => {
      const beads = await allBeads(rig);
      const byId = new Map(beads.map((b) => [b.id, b] as const));
      return beads.filter(
        (b) => b.status !== 'closed' && b.blockedBy.includes(beadId) && b.blockedBy.every((x) => byId.get(x)?.status === 'closed'),
      );
    },
    markMirrored: async (beadId, label) => {
      await mutateBead(rig, beadId, (b) => (b.labels.includes(label) ? b : { ...b, labels: [...b.labels, label], updatedAt: rig.at() }));
    },
    recordRejected: (beadId) => recordRejected(rig, beadId),
    stopConvoy: async (convoyId) => {
      await stopConvoyInRig(rig, convoyId);
      return mustConvoy(rig, convoyId);
    },
  };
}

/**
 * A polecat run ended while its bead is still only hooked under the sling that run was
 * dispatched for: the run died before a `gt sync` published its claim (a vanished runner,
 * a workflow that cannot even install gastown). Without this the bead would wait on its
 * hook for ever, since that sling's run counts as dispatched. Slung anew (the next pass
 * dispatches a new run) as one more attempt, so a run that can never start stops at the
 * retry cap, where the mayor is told. The run id is kept on the bead: a redelivered event
 * changes nothing.
 */
async function reslingAfterEndedRun(rig: Rig, run: NonNullable<DispatchOptions['endedRun']>): Promise<void> {
  const ended = `${RUN_ENDED}${run.id}`;
  await rig.ledger.transact(
    async (tx) => {
      const bead = await tx.get<Bead>('beads', run.bead);
      if (!bead || bead.status !== 'hooked' || !bead.assignee || bead.labels.includes(ended)) return;
      const hook = await tx.get<Hook>('hooks', bead.assignee);
      if (!hook || hook.bead !== bead.id) return;
      const slungAt = hook.slungAt ?? bead.updatedAt;
      if (!bead.labels.includes(dispatchKey(bead.assignee, slungAt))) return;
      // A run created before this sling was for an earlier one (and a run without a readable
      // creation time cannot be placed: the lease still catches its bead).
      const created = Date.parse(run.createdAt);
      if (!Number.isFinite(created) || created < Date.parse(slungAt) - CLOCK_SKEW_MS) return;
      const attempts = bead.attempts + 1;
      const labels = [...bead.labels.filter((l) => !l.startsWith(RUN_ENDED)), ended];
      tx.put<Bead>('beads', bead.id, { ...bead, attempts, labels, updatedAt: rig.at() }, `stalled beads/${bead.id}`);
      tx.put<Hook>('hooks', bead.assignee, { ...hook, slungAt: rig.at(), slungBy: DEACON_ACTOR });
      rig.emit(tx, 'stalled', `workflow run ${run.id} for ${bead.id} ended before ${bead.assignee} claimed it; slung anew (attempt ${attempts})`, {
        bead: bead.id,
        convoy: bead.convoy,
        url: bead.issue?.url ?? null,
      });
      if (attempts > rig.settings.retryCap)
        mailInTx(rig, tx, {
          from: DEACON_ACTOR,
          to: 'mayor',
          subject: `STALLED ${bead.id}: ${bead.title}`.slice(0, 200),
          body: `${attempts} workflow runs for ${bead.id} ended before claiming it (the last: run ${run.id}). It waits on ${bead.assignee}'s hook; check the polecat workflow.`,
          type: 'BEAD_STALLED',
          bead: bead.id,
        });
    },
    { actor: DEACON_ACTOR },
  );
}
