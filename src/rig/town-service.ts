/**
 * The town's one vocabulary: every operation a surface performs on a rig, by name. The CLI,
 * the GitHub handlers, the Slack listeners and the runners call these (a surface that needs
 * only some takes a `Pick<TownService, ...>`), so a rule about convoys or beads is written
 * once, here or in the rig function it names. `townService(rig)` is the ledger-backed
 * implementation; test/support/in-memory-town.ts is the in-memory fake surface tests use.
 *
 * `actor` is the person or agent acting (a GitHub login, a polecat's name), already checked
 * by the surface for the right to act; implementations throw GastownError with a message
 * fit to show that person.
 */
import { GastownError } from '../errors.js';
import type { Bead, Convoy, FeedEvent, ForgeLink, MailMessage } from '../town/types.js';
import { allBeads, getBead, mutateBead, readyList, reopenBead } from './beads.js';
import { stopConvoy } from './convoy-control.js';
import { DEACON_ACTOR } from './deacon-pass.js';
import {
  confirmDispatched,
  dispatchersOf,
  markDispatched,
  pendingDispatch,
  reslingUndispatched,
  unconfirmedDispatches,
  unmarkDispatched,
  type DispatchOptions,
  type PendingDispatch,
  type UnconfirmedDispatch,
} from './dispatch.js';
import { parseBudget } from '../town/costs.js';
import { changeBudget, costsReport, type BudgetChange, type CostsBy, type CostsReport } from './costs.js';
import { estopState, setEstop, type EstopState } from './estop.js';
import { readFeed, readTrail, type TrailEntry } from './feed.js';
import { inbox, nudge, sendMail, type InboxItem } from './mail.js';
import { recordMerged, recordRejected, type MergedOutcome } from './advance.js';
import {
  approveConvoy,
  findConvoyBySource,
  markMaterialised,
  recordBeadIssue,
  recordPlan,
  recordPlanFailure,
  setConvoyMark,
  type RecordedConvoy,
  type RecordPlanInput,
} from './record-plan.js';
import { replanConvoy, type ReplanContext, type Replanner, type ReplanInput, type ReplanOutcome } from './replan-convoy.js';
import { approveReview, requestRevision, type RevisionOutcome, type RevisionRequest } from './revise-bead.js';
import type { Rig } from './rig.js';
import { slingGoal, type SlingGoalInput } from './sling-goal.js';
import { sling, unsling, type SlingResult } from './sling.js';
import { rigStatus, type RigStatus } from './status.js';
import { dispatchReady } from './work.js';

export type {
  BudgetChange,
  CostsBy,
  CostsReport,
  EstopState,
  DispatchOptions,
  MergedOutcome,
  PendingDispatch,
  UnconfirmedDispatch,
  RecordedConvoy,
  RecordPlanInput,
  ReplanContext,
  Replanner,
  ReplanInput,
  ReplanOutcome,
  RevisionOutcome,
  RevisionRequest,
  SlingResult,
};

export interface PlanFailure {
  sourceKey: string;
  /** Null when the failure came before the plan was recorded. */
  convoyId: string | null;
  code: string;
  message: string;
}

export interface TownService {
  // ------------------------------------------------------------------ reads
  bead(id: string): Promise<Bead | null>;
  convoy(id: string): Promise<RecordedConvoy | null>;
  /** The convoy planned for a source (`github:owner/repo#12`), or null. */
  convoyFor(sourceKey: string): Promise<RecordedConvoy | null>;
  status(): Promise<RigStatus>;
  ready(): Promise<Bead[]>;
  /** Latest events, oldest first. */
  feed(limit: number): Promise<FeedEvent[]>;
  /** Recent history, newest first. */
  trail(limit: number): Promise<TrailEntry[]>;
  inbox(agent: string): Promise<InboxItem[]>;
  /** Beads blocked by `beadId` whose blockers are all closed now (and that are not closed themselves). */
  readyDependents(beadId: string): Promise<Bead[]>;

  // ------------------------------------------------------------------ planning
  /** Plans a goal with the given planner and records the convoy (local planning). */
  planGoal(input: SlingGoalInput, actor: string): Promise<RecordedConvoy & { planner: 'model' | 'checklist' }>;
  /** Records a plan before anything is written to a forge. Idempotent on `sourceKey`. */
  recordPlan(input: RecordPlanInput): Promise<RecordedConvoy>;
  /** A failed planning or materialising attempt: on the convoy when there is one, always in the feed. */
  recordPlanFailure(failure: PlanFailure): Promise<void>;
  /** The bead is mirrored by `link` (its issue on the forge). Idempotent. */
  linkBead(beadId: string, link: ForgeLink): Promise<void>;
  /** Every bead has its issue and edges on the forge: dispatch may start; clears a recorded failure. */
  markMaterialised(convoyId: string): Promise<void>;
  /**
   * Re-plans what has not started, from a person's instruction: the planner gets the current
   * plan (started beads fixed); new beads are added, removed ones cancelled, edited ones
   * changed, within the bead cap, and a repository that asks for approval waits for one
   * again. Idempotent on `input.key`. See rig/replan-convoy.ts.
   */
  replan(convoyId: string, input: ReplanInput): Promise<ReplanOutcome>;
  /** Approves a plan awaiting approval (active). Approving twice is a no-op. */
  approve(convoyId: string, actor: string): Promise<RecordedConvoy>;
  /** Stops a convoy: nothing more is slung, work in flight is unslung. Idempotent. */
  stop(convoyId: string, actor: string): Promise<RecordedConvoy & { unslung: string[] }>;
  /**
   * A record a surface keeps on a convoy (GitHub: its status comment; Slack: its thread),
   * under a key the surface owns. The town never reads one. Idempotent.
   */
  markConvoy(convoyId: string, key: string, value: string | number): Promise<void>;

  // ------------------------------------------------------------------ work
  /** Hooks a ready bead to `polecat`, or to a free polecat from the name pool. */
  sling(beadId: string, polecat: string | undefined, actor: string): Promise<SlingResult>;
  /** Takes a bead back from its polecat (if any), reopens a failed one, and slings it again. */
  resling(beadId: string, actor: string, why: string): Promise<SlingResult>;
  /** Slings every ready bead of active convoys, up to the rig's concurrency. */
  dispatchReady(actor: string): Promise<SlingResult[]>;
  /** Forge runs: slings what may start and returns the hooked beads with no run yet. */
  pendingDispatch(cap: number, opts?: DispatchOptions): Promise<PendingDispatch[]>;
  /** Records on the bead that this sling's run is dispatched, by `by` (an app replica), before the run is. Idempotent. */
  markDispatched(pending: PendingDispatch, by?: string): Promise<void>;
  /** Takes back `by`'s mark when the run could not be dispatched. Idempotent. */
  unmarkDispatched(pending: PendingDispatch, by?: string): Promise<void>;
  /** The replicas that marked this sling's dispatch (after a sync: exactly one means it alone may dispatch). */
  dispatchersOf(pending: PendingDispatch): Promise<string[]>;
  /** Records that the forge accepted this sling's dispatch call. Idempotent. */
  confirmDispatched(pending: PendingDispatch): Promise<void>;
  /** Slings marked dispatched at least `graceMs` ago whose dispatch call was never recorded as accepted. */
  unconfirmedDispatches(graceMs: number): Promise<UnconfirmedDispatch[]>;
  /** A marked sling the forge has no run for: slung anew to the same polecat, to be dispatched again. */
  reslingUndispatched(pending: UnconfirmedDispatch): Promise<boolean>;
  /** The bead's work was merged: closed, convoy landed when it was the last. Idempotent. */
  recordMerged(beadId: string, url: string | null): Promise<MergedOutcome>;
  /** The bead's pull request was closed unmerged: open again. Idempotent. */
  /** A pull request closed unmerged: the bead is open again; `head` is the rejected branch and its tip. */
  recordRejected(beadId: string, head?: { branch: string; tip: string | null }): Promise<Bead>;
  /**
   * Sends a bead in review back to the polecat that made it, on the same branch, with the
   * feedback (sanitised by the surface) in its inbox; counted against `maxRevisions`, past
   * which the bead needs a person. Queued when the polecat is revising it already.
   * Idempotent on `req.key`. See rig/revise-bead.ts.
   */
  requestRevision(beadId: string, req: RevisionRequest): Promise<RevisionOutcome>;
  /** Approves a bead in review for the Refinery (rigs with `review: required`). Idempotent. */
  approveReview(beadId: string, actor: string): Promise<Bead>;
  /** Adds `label` to the bead (a note of what the forge already shows). Idempotent. */
  markMirrored(beadId: string, label: string): Promise<void>;

  // ------------------------------------------------------------------ costs, budgets, emergency stop
  /** What agent runs spent, summed by convoy (default), polecat, bead or day (`gt costs`). */
  costs(opts?: { convoy?: string; by?: CostsBy }): Promise<CostsReport>;
  /**
   * Sets (`$20`, `200k`) or raises (`+$5`) a convoy's budget; the beads paused for it resume
   * when it is no longer spent. Bad text is a one-line `gastown_bad_input`.
   */
  budget(convoyId: string, text: string, actor: string): Promise<BudgetChange>;
  /** Engages (true) or releases the emergency stop. Idempotent. */
  estop(engaged: boolean, actor: string): Promise<EstopState & { changed: boolean }>;
  estopState(): Promise<EstopState>;

  // ------------------------------------------------------------------ mail
  sendMail(from: string, to: string, subject: string, body?: string): Promise<MailMessage>;
  nudge(from: string, polecat: string, text: string): Promise<MailMessage>;
}

/** The town service over one rig's ledger. */
export function townService(rig: Rig): TownService {
  const recorded = async (convoyId: string): Promise<RecordedConvoy | null> => {
    const found = await rig.ledger.get<Convoy>('convoys', convoyId);
    if (!found) return null;
    const beads = await rig.ledger.getMany<Bead>('beads', found.value.beads);
    return { convoy: found.value, beads: beads.map((b) => b.value) };
  };
  const mustConvoy = async (convoyId: string): Promise<RecordedConvoy> => {
    const found = await recorded(convoyId);
    if (!found) throw new GastownError('gastown_not_found', `no convoy ${convoyId}`, { convoy: convoyId });
    return found;
  };

  return {
    bead: async (id) => (await rig.ledger.get<Bead>('beads', id))?.value ?? null,
    convoy: recorded,
    convoyFor: (sourceKey) => findConvoyBySource(rig, sourceKey),
    status: () => rigStatus(rig),
    ready: () => readyList(rig),
    feed: async (limit) => (await readFeed(rig)).slice(-limit),
    trail: (limit) => readTrail(rig, { limit }),
    inbox: (agent) => inbox(rig, agent),
    readyDependents: async (beadId) => {
      const beads = await allBeads(rig);
      const byId = new Map(beads.map((b) => [b.id, b] as const));
      return beads.filter(
        (b) => b.status !== 'closed' && b.blockedBy.includes(beadId) && b.blockedBy.every((x) => byId.get(x)?.status === 'closed'),
      );
    },

    planGoal: (input, actor) => slingGoal(rig.withActor(actor), input),
    recordPlan: (input) => recordPlan(rig, input),
    recordPlanFailure: (f) => recordPlanFailure(rig, f),
    linkBead: (beadId, link) => recordBeadIssue(rig, beadId, link),
    markMaterialised: async (convoyId) => {
      await markMaterialised(rig, convoyId);
    },
    replan: (convoyId, input) => replanConvoy(rig.withActor(input.by), convoyId, input),
    approve: async (convoyId, actor) => {
      await approveConvoy(rig.withActor(actor), convoyId, actor);
      return mustConvoy(convoyId);
    },
    stop: async (convoyId, actor) => {
      const { unslung } = await stopConvoy(rig.withActor(actor), convoyId);
      return { ...(await mustConvoy(convoyId)), unslung };
    },
    markConvoy: async (convoyId, key, value) => {
      await setConvoyMark(rig, convoyId, key, value);
    },

    sling: (beadId, polecat, actor) => sling(rig.withActor(actor), beadId, polecat),
    resling: async (beadId, actor, why) => {
      const as = rig.withActor(actor);
      const bead = await getBead(as, beadId);
      if (bead.status === 'hooked' || bead.status === 'in_progress') await unsling(as, beadId, why);
      else if (bead.status === 'failed') await reopenBead(as, beadId);
      else if (bead.status !== 'open') {
        throw new GastownError(
          'gastown_illegal_transition',
          `Bead ${beadId} is ${bead.status}; only open, hooked, in-progress or failed beads can be re-slung.`,
        );
      }
      return sling(as, beadId);
    },
    dispatchReady: (actor) => dispatchReady(rig.withActor(actor)),
    pendingDispatch: (cap, opts) => pendingDispatch(rig, cap, opts),
    markDispatched: (pending, by) => markDispatched(rig, pending, by),
    unmarkDispatched: (pending, by) => unmarkDispatched(rig, pending, by),
    dispatchersOf: (pending) => dispatchersOf(rig, pending),
    confirmDispatched: (pending) => confirmDispatched(rig, pending),
    unconfirmedDispatches: (graceMs) => unconfirmedDispatches(rig, graceMs),
    reslingUndispatched: (pending) => reslingUndispatched(rig.withActor(DEACON_ACTOR), pending),
    recordMerged: (beadId, url) => recordMerged(rig, beadId, { url }),
    recordRejected: (beadId, head) => recordRejected(rig, beadId, undefined, head),
    requestRevision: (beadId, req) => requestRevision(rig.withActor(req.by), beadId, req),
    approveReview: (beadId, actor) => approveReview(rig.withActor(actor), beadId, actor),
    costs: (opts) => costsReport(rig, opts),
    budget: (convoyId, text, actor) => {
      const { budget, relative } = parseBudget(text);
      return changeBudget(rig.withActor(actor), convoyId, budget, relative);
    },
    estop: (engaged, actor) => setEstop(rig.withActor(actor), engaged),
    estopState: () => estopState(rig),
    markMirrored: async (beadId, label) => {
      await mutateBead(rig, beadId, (b) => (b.labels.includes(label) ? b : { ...b, labels: [...b.labels, label], updatedAt: rig.at() }));
    },

    sendMail: (from, to, subject, body) => sendMail(rig.withActor(from), { from, to, subject, body }),
    nudge: (from, polecat, text) => nudge(rig.withActor(from), polecat, text, from),
  };
}
