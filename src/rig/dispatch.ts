/**
 * Dispatch bookkeeping for rigs whose beads run in a forge's workflow runs (GitHub Actions):
 * which hooked beads still need a run, that a sling's run was dispatched, and what to do
 * when a run ends before its polecat claimed the bead. Ledger transactions, so they live
 * in the service layer; the GitHub flows call them through the town service.
 */
import { DEACON_ACTOR, deaconPass } from './deacon-pass.js';
import type { Bead, Convoy, Heartbeat, Hook } from '../town/types.js';
import { allBeads, mutateBead } from './beads.js';
import { estopState } from './estop.js';
import type { Rig } from './rig.js';
import { resumePendingRevisions } from './revise-bead.js';
import { hooks } from './sling.js';
import { dispatchable, dispatchReady, mailInTx } from './work.js';

const DISPATCHED = 'dispatched:';
/** Recorded once the forge accepted the dispatch call: a mark without it may have no run. */
const SENT = 'dispatch-sent:';
const RUN_ENDED = 'run-ended:';
/** A forge's clock and ours may differ a little; a run is never created before its sling by more. */
const CLOCK_SKEW_MS = 60_000;

/** A hooked bead whose current sling has no workflow run yet. */
export interface PendingDispatch {
  bead: Bead;
  polecat: string;
  /** Identifies this sling (polecat and time): recorded on the bead once its run is dispatched. */
  key: string;
}

export interface DispatchOptions {
  /** Runners known to be gone (a finished polecat run, `gha-<run id>`): their beads are stalled at once. */
  deadRunners?: readonly string[];
  /**
   * A polecat run that is over, with the bead its title names: if that bead is still only
   * hooked under the sling the run was dispatched for, the run died before its claim
   * reached this ledger, and the bead is slung anew.
   */
  endedRun?: { id: number; bead: string; createdAt: string };
}

/** The label recording that a sling's workflow run was dispatched. */
function dispatchKey(polecat: string, slungAt: string): string {
  return `${DISPATCHED}${polecat}@${slungAt}`;
}

/** The marks of one sling's dispatch: `<key>#<replica>` per app replica that claimed it (plain `<key>` before replicas). */
function marksOf(labels: readonly string[], key: string): string[] {
  return labels.filter((l) => l === key || l.startsWith(`${key}#`));
}

function hasDispatch(labels: readonly string[], key: string): boolean {
  return marksOf(labels, key).length > 0;
}

/** The label saying the forge accepted this sling's dispatch call (`dispatched:` key → `dispatch-sent:`). */
function sentKey(key: string): string {
  return `${SENT}${key.slice(DISPATCHED.length)}`;
}

/** Convoys whose beads may run on the forge: active, from it, and every bead has its issue there. */
function onForge(convoy: Convoy | undefined): boolean {
  return !!convoy && convoy.status === 'active' && convoy.source?.kind === 'github' && !!convoy.materialisedAt;
}

/**
 * Slings ready beads of convoys that are approved and fully on the forge, up to `cap` beads
 * in flight, then returns every hooked bead of such convoys not yet dispatched (including
 * ones slung earlier whose dispatch was interrupted).
 */
export async function pendingDispatch(rig: Rig, cap: number, opts: DispatchOptions = {}): Promise<PendingDispatch[]> {
  // The Deacon first: a polecat run that died mid-bead leaves it in progress; once its
  // lease ran out (or its run is known to be over) it is slung anew and dispatched again.
  await deaconPass(rig.withActor(DEACON_ACTOR), { deadRunners: opts.deadRunners });
  if (opts.endedRun) await reslingAfterEndedRun(rig.withActor(DEACON_ACTOR), opts.endedRun);
  // The emergency stop: nothing is slung or dispatched, not even a bead already hooked. The
  // two passes above only put stalled beads back on their own hooks, so a run cancelled by
  // the stop has its bead ready to be dispatched again when it is released.
  if ((await estopState(rig)).engaged) return [];
  const convoys = new Map((await rig.ledger.list<Convoy>('convoys')).map((c) => [c.id, c.value]));
  const ours = (b: Bead) => !!b.convoy && onForge(convoys.get(b.convoy));
  // Beads sent back for revision while their polecat held other work, now that it may be free.
  await resumePendingRevisions(rig, (await allBeads(rig)).filter(ours));
  const beads = await allBeads(rig);
  let busy = beads.filter((b) => b.status === 'hooked' || b.status === 'in_progress').length;
  // Only beads mirrored on the forge are slung here: a convoy still being materialised waits.
  if (busy < cap) {
    for (const bead of (await dispatchable(rig, beads)).filter(ours)) {
      busy += (await dispatchReady(rig, { cap, only: bead.id })).length;
      if (busy >= cap) break;
    }
  }
  const slungAt = new Map((await hooks(rig)).map((h) => [h.agent, h.slungAt] as const));
  const pending: PendingDispatch[] = [];
  for (const bead of await allBeads(rig)) {
    if (bead.status !== 'hooked' || !bead.assignee || bead.paused || !ours(bead)) continue;
    // Runs that keep dying are not dispatched for ever: past the retry cap the bead waits
    // on its hook for a person (the Deacon has mailed the mayor).
    if (bead.attempts > rig.settings.retryCap) continue;
    const key = dispatchKey(bead.assignee, slungAt.get(bead.assignee) ?? bead.updatedAt);
    if (!hasDispatch(bead.labels, key)) pending.push({ bead, polecat: bead.assignee, key });
  }
  return pending.sort(
    (a, b) => a.bead.priority - b.bead.priority || a.bead.createdAt.localeCompare(b.bead.createdAt) || a.bead.id.localeCompare(b.bead.id),
  );
}

/**
 * Records on the bead that this sling's run is dispatched, by `by` (an app replica), before
 * the run is: pushed to the remote without force, the mark is a compare-and-swap there, so
 * of two replicas marking one sling only the first push carries a single mark; the other
 * merges and sees two (`dispatchersOf`). A sling already marked is left alone. Idempotent.
 */
export async function markDispatched(rig: Rig, pending: PendingDispatch, by = ''): Promise<void> {
  const mark = by ? `${pending.key}#${by}` : pending.key;
  await mutateBead(
    rig,
    pending.bead.id,
    (b) =>
      hasDispatch(b.labels, pending.key) || b.assignee !== pending.polecat
        ? b
        : { ...b, labels: [...b.labels.filter((l) => !l.startsWith(DISPATCHED)), mark], updatedAt: rig.at() },
    { type: 'bead_updated', message: (b) => `workflow run dispatched for ${b.id} (${pending.polecat})` },
  );
}

/** Takes back `by`'s mark of a sling whose run it could not dispatch (the mark never reached the remote). */
export async function unmarkDispatched(rig: Rig, pending: PendingDispatch, by = ''): Promise<void> {
  const mark = by ? `${pending.key}#${by}` : pending.key;
  await mutateBead(rig, pending.bead.id, (b) =>
    b.labels.includes(mark) ? { ...b, labels: b.labels.filter((l) => l !== mark), updatedAt: rig.at() } : b,
  );
}

/**
 * Records that the forge accepted this sling's dispatch call. Until then a mark only says a
 * replica meant to dispatch: one that stopped between its mark's push and the call leaves a
 * mark and no run (`unconfirmedDispatches`). Idempotent; a later sling is left alone.
 */
export async function confirmDispatched(rig: Rig, pending: PendingDispatch): Promise<void> {
  const sent = sentKey(pending.key);
  await mutateBead(rig, pending.bead.id, (b) =>
    b.labels.includes(sent) || !hasDispatch(b.labels, pending.key)
      ? b
      : { ...b, labels: [...b.labels.filter((l) => !l.startsWith(SENT)), sent], updatedAt: rig.at() },
  );
}

/** A hooked bead whose current sling is marked dispatched, with no record that the call got through. */
export interface UnconfirmedDispatch extends PendingDispatch {
  slungAt: string;
}

/**
 * Slings marked dispatched whose dispatch call was never recorded as accepted, marked at
 * least `graceMs` ago (the bead's last update, the mark or later, is the age: a run the call
 * did start has had that long to show in the forge's list of runs). The caller asks the
 * forge for a run of the bead since the sling: `confirmDispatched` when there is one,
 * `reslingUndispatched` when there is none. Read-only.
 */
export async function unconfirmedDispatches(rig: Rig, graceMs: number): Promise<UnconfirmedDispatch[]> {
  if ((await estopState(rig)).engaged) return [];
  const convoys = new Map((await rig.ledger.list<Convoy>('convoys')).map((c) => [c.id, c.value]));
  const slung = new Map((await hooks(rig)).map((h) => [h.agent, h] as const));
  const now = rig.now().getTime();
  const out: UnconfirmedDispatch[] = [];
  for (const bead of await allBeads(rig)) {
    if (bead.status !== 'hooked' || !bead.assignee || bead.paused || !bead.convoy || !onForge(convoys.get(bead.convoy))) continue;
    const hook = slung.get(bead.assignee);
    if (hook?.bead?.id !== bead.id) continue;
    const slungAt = hook.slungAt ?? bead.updatedAt;
    const key = dispatchKey(bead.assignee, slungAt);
    if (!hasDispatch(bead.labels, key) || bead.labels.includes(sentKey(key))) continue;
    const markedAt = Math.max(Date.parse(slungAt), Date.parse(bead.updatedAt));
    if (!(now - markedAt >= graceMs)) continue;
    out.push({ bead, polecat: bead.assignee, key, slungAt });
  }
  return out;
}

/**
 * A sling marked dispatched for which the forge has no run: the replica that marked it
 * stopped before its call got through. Slung anew to the same polecat (a fresh sling time,
 * so a fresh dispatch key): the next pass marks and dispatches it as any pending sling,
 * once across replicas. Not counted as an attempt (no run ever started). Compare-and-swap
 * on the hook: a sling that moved meanwhile (claimed, re-slung, confirmed) is left alone.
 * True when it was slung anew.
 */
export async function reslingUndispatched(rig: Rig, pending: UnconfirmedDispatch): Promise<boolean> {
  return rig.ledger.transact(
    async (tx) => {
      const bead = await tx.get<Bead>('beads', pending.bead.id);
      if (!bead || bead.status !== 'hooked' || bead.assignee !== pending.polecat) return false;
      const hook = await tx.get<Hook>('hooks', pending.polecat);
      if (!hook || hook.bead !== bead.id || (hook.slungAt ?? bead.updatedAt) !== pending.slungAt) return false;
      if (!hasDispatch(bead.labels, pending.key) || bead.labels.includes(sentKey(pending.key))) return false;
      const labels = bead.labels.filter((l) => !l.startsWith(DISPATCHED) && !l.startsWith(SENT));
      tx.put<Bead>('beads', bead.id, { ...bead, labels, updatedAt: rig.at() }, `undispatched beads/${bead.id}`);
      tx.put<Hook>('hooks', pending.polecat, { ...hook, slungAt: rig.at(), slungBy: DEACON_ACTOR });
      rig.emit(
        tx,
        'stalled',
        `no workflow run was found for ${bead.id} (${pending.polecat}) after its dispatch was marked; slung anew to be dispatched again`,
        { bead: bead.id, convoy: bead.convoy, url: bead.issue?.url ?? null },
      );
      return true;
    },
    { actor: DEACON_ACTOR },
  );
}

/** The replicas whose mark of this sling's dispatch the ledger holds ('' for an unnamed one). */
export async function dispatchersOf(rig: Rig, pending: PendingDispatch): Promise<string[]> {
  const bead = (await rig.ledger.get<Bead>('beads', pending.bead.id))?.value;
  return marksOf(bead?.labels ?? [], pending.key)
    .map((l) => l.slice(pending.key.length + 1))
    .sort();
}

/**
 * Whether a workflow run is the one dispatched for a bead that still waits for it (the token
 * exchange asks before it gives a run a token): the bead is hooked, its hook's current sling
 * carries the dispatched label (its run was dispatched) and the run was created after that
 * sling (a run of an earlier sling gets nothing); or the run has already claimed it (in
 * progress, this run's runner `gha-<run id>` on its heartbeat: a step asking again). Null
 * when it waits for the run, else why not. Read-only.
 */
export async function whyRunNotLive(rig: Rig, beadId: string, run: { id: number; createdAt: string }): Promise<string | null> {
  const bead = (await rig.ledger.get<Bead>('beads', beadId))?.value;
  if (!bead) return `there is no bead ${beadId} in the ledger`;
  if (bead.status === 'in_progress' && bead.assignee) {
    const beat = (await rig.ledger.get<Heartbeat>('heartbeats', bead.assignee))?.value;
    if (beat?.bead === bead.id && beat.runner === `gha-${run.id}`) return null;
    return `bead ${beadId} is in progress on another runner`;
  }
  if (bead.status !== 'hooked' || !bead.assignee)
    return `bead ${beadId} is ${bead.status.replace('_', ' ')}, not waiting for a polecat run`;
  const hook = (await rig.ledger.get<Hook>('hooks', bead.assignee))?.value;
  if (!hook || hook.bead !== bead.id) return `bead ${beadId} is not on ${bead.assignee}'s hook`;
  const slungAt = hook.slungAt ?? bead.updatedAt;
  if (!hasDispatch(bead.labels, dispatchKey(bead.assignee, slungAt))) return `no run was dispatched for bead ${beadId}'s current sling`;
  const created = Date.parse(run.createdAt);
  if (!Number.isFinite(created) || created < Date.parse(slungAt) - CLOCK_SKEW_MS)
    return `run ${run.id} was created before bead ${beadId}'s current sling`;
  return null;
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
      if (!hasDispatch(bead.labels, dispatchKey(bead.assignee, slungAt))) return;
      // A run created before this sling was for an earlier one (and a run without a readable
      // creation time cannot be placed: the lease still catches its bead).
      const created = Date.parse(run.createdAt);
      if (!Number.isFinite(created) || created < Date.parse(slungAt) - CLOCK_SKEW_MS) return;
      const attempts = bead.attempts + 1;
      const labels = [...bead.labels.filter((l) => !l.startsWith(RUN_ENDED)), ended];
      tx.put<Bead>('beads', bead.id, { ...bead, attempts, labels, updatedAt: rig.at() }, `stalled beads/${bead.id}`);
      tx.put<Hook>('hooks', bead.assignee, { ...hook, slungAt: rig.at(), slungBy: DEACON_ACTOR });
      rig.emit(
        tx,
        'stalled',
        `workflow run ${run.id} for ${bead.id} ended before ${bead.assignee} claimed it; slung anew (attempt ${attempts})`,
        {
          bead: bead.id,
          convoy: bead.convoy,
          url: bead.issue?.url ?? null,
        },
      );
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
