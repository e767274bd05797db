/**
 * Re-planning a convoy that is under way: a person's instruction (a comment on the planned
 * issue) goes to the planner with the current plan, and the revised plan is applied only to
 * beads that have not started. Started beads (slung, worked, in review, with a pull request
 * or a branch, failed, merged or closed) are kept exactly as they are, and the planner is
 * told so. The rig takes the planner as a parameter (`Replanner`; the Mayor implements it in
 * mayor/replanner.ts), as it does for planning (`GoalPlanner`).
 */
import { GastownError } from '../errors.js';
import { newBead } from '../town/bead.js';
import { landConvoy } from '../town/convoy.js';
import { transitionBead } from '../town/lifecycle.js';
import { validatePlan } from '../town/plan.js';
import type { Bead, Convoy, ModelUsage, Plan, PlanBead } from '../town/types.js';
import { beadIds } from './beads.js';
import { indexedDependents } from './dependents.js';
import { planBeadIds } from './record-plan.js';
import type { Rig } from './rig.js';

/** One bead of the current plan as the planner sees it. */
export interface ReplanBead {
  /** The bead's plan key (its id when it has none): the revised plan names it by this key. */
  key: string;
  id: string;
  title: string;
  description: string;
  acceptance: string[];
  files: string[];
  /** Keys of its blockers in this convoy. */
  blockedBy: string[];
  status: Bead['status'];
  /** Started beads are fixed: the revised plan may depend on them but cannot change them. */
  started: boolean;
}

export interface ReplanContext {
  /** The revision's key (`comment:<id>`): new beads' keys may derive from it, so they are unique. */
  key: string;
  title: string;
  /** The person's words (already stripped of hidden content by the surface). */
  instruction: string;
  by: string;
  beads: ReplanBead[];
  maxBeads: number;
}

/**
 * Asks the Mayor for the convoy's revised plan: every bead that should exist once the
 * instruction is followed, naming kept beads by their key; a bead not named is cancelled
 * (when it has not started); an unknown key is a new bead.
 */
export type Replanner = (context: ReplanContext) => Promise<{
  plan: Plan;
  planner: 'model' | 'checklist';
  usage: ModelUsage | null;
}>;

export interface ReplanInput {
  /** What asked for it (`comment:<id>`): the same key re-plans once, whatever the redeliveries. */
  key: string;
  instruction: string;
  by: string;
  replanner: Replanner;
  maxBeads: number;
  /** The repository asks for approval: a revision that adds or changes work waits for one. */
  requireApproval: boolean;
}

export interface ReplanOutcome {
  /**
   * `replanned`: the ledger changed; `unchanged`: the revised plan changed nothing that may
   * change; `already`: this key was applied before (a redelivery); `refused`: the convoy can
   * no longer change (`reason` says why).
   */
  status: 'replanned' | 'unchanged' | 'already' | 'refused';
  reason: string | null;
  convoy: Convoy;
  /** The convoy's beads after the revision. */
  beads: Bead[];
  added: Bead[];
  /** Not-started beads whose title, description, acceptance, files or blockers changed. */
  changed: Bead[];
  /** Not-started beads the revision removed: closed as cancelled and out of the convoy. */
  cancelled: Bead[];
  /** Started beads the revised plan tried to change, left as they were. */
  fixed: Bead[];
  planner: 'model' | 'checklist' | null;
  usage: ModelUsage | null;
}

/** A bead the revision may still change: open, never slung, no branch, no pull request. */
export function notStarted(b: Bead): boolean {
  return b.status === 'open' && !b.assignee && !b.pr && !b.branch && b.attempts === 0;
}

const CAN_CHANGE: ReadonlySet<Convoy['status']> = new Set(['active', 'awaiting_approval']);

export async function replanConvoy(rig: Rig, convoyId: string, input: ReplanInput): Promise<ReplanOutcome> {
  const current = await readConvoy(rig, convoyId);
  const nothing = (status: ReplanOutcome['status'], reason: string | null, extra: Partial<ReplanOutcome> = {}): ReplanOutcome => ({
    status,
    reason,
    convoy: current.convoy,
    beads: current.beads,
    added: [],
    changed: [],
    cancelled: [],
    fixed: [],
    planner: null,
    usage: null,
    ...extra,
  });
  if (current.convoy.replans?.includes(input.key))
    return { ...nothing('already', null), ...(await logged(rig, current.convoy, input.key)) };
  if (!CAN_CHANGE.has(current.convoy.status))
    return nothing('refused', `the convoy is ${current.convoy.status}, so there is nothing left to re-plan`);

  // The planner (a model call) runs outside the transaction, which may run more than once.
  const result = await input.replanner({
    key: input.key,
    title: current.convoy.title,
    instruction: input.instruction,
    by: input.by,
    beads: describe(current.beads),
    maxBeads: input.maxBeads,
  });

  return rig.ledger.transact(
    async (tx) => {
      const convoy = await tx.get<Convoy>('convoys', convoyId);
      if (!convoy) throw new GastownError('gastown_not_found', `no convoy ${convoyId}`, { convoy: convoyId });
      const beads = (await Promise.all(convoy.beads.map((id) => tx.get<Bead>('beads', id)))).filter((b): b is Bead => b !== null);
      const base = { ...nothing('unchanged', null), convoy, beads, planner: result.planner, usage: result.usage };
      if (convoy.replans?.includes(input.key))
        return { ...base, status: 'already' as const, planner: null, usage: null, ...(await logged(rig, convoy, input.key)) };
      if (!CAN_CHANGE.has(convoy.status))
        return { ...base, status: 'refused' as const, reason: `the convoy is ${convoy.status}, so there is nothing left to re-plan` };

      const at = rig.at();
      const applied = applyRevision(convoy, beads, result.plan, input.maxBeads, await beadIds(rig), at);
      const touched = new Set<string>([...applied.added, ...applied.changed, ...applied.cancelled].map((b) => b.id));
      const after = new Map(applied.beads.map((b) => [b.id, b] as const));
      for (const b of applied.cancelled) after.set(b.id, b);
      // The dependents index of every bead of the convoy, from the revised edges; entries for
      // beads outside the convoy (a `gt dep add` from elsewhere) are kept.
      const members = new Set([...convoy.beads, ...applied.beads.map((b) => b.id)]);
      const waiting = new Map<string, Set<string>>();
      for (const b of applied.beads) for (const blocker of b.blockedBy) waiting.set(blocker, (waiting.get(blocker) ?? new Set()).add(b.id));
      for (const [id, b] of after) {
        const old = indexedDependents(b) ?? [];
        const next = [...new Set([...old.filter((d) => !members.has(d)), ...(waiting.get(id) ?? [])])].sort();
        if (next.join() !== old.join() || indexedDependents(b) === null || touched.has(id)) {
          after.set(id, { ...b, dependents: next });
          touched.add(id);
        }
      }

      const changedWork = applied.added.length + applied.changed.length > 0;
      const anything = changedWork || applied.cancelled.length > 0;
      const finalBeads = applied.beads.map((b) => after.get(b.id)!);
      let next: Convoy = {
        ...convoy,
        beads: finalBeads.map((b) => b.id),
        replans: [...(convoy.replans ?? []), input.key],
        usage: sumUsage(convoy.usage, result.usage),
        updatedAt: at,
      };
      if (applied.cancelled.length > 0) next.cancelled = [...(convoy.cancelled ?? []), ...applied.cancelled.map((b) => b.id)];
      if (anything) {
        const ids = (list: Bead[]) => list.map((b) => b.id);
        const record = {
          added: ids(applied.added),
          changed: ids(applied.changed),
          cancelled: ids(applied.cancelled),
          fixed: ids(applied.fixed),
        };
        next.replanLog = { ...(convoy.replanLog ?? {}), [input.key]: record };
      }
      // New beads need their forge mirrors before a forge dispatch may sling them.
      if (applied.added.length > 0 && next.materialisedAt) next.materialisedAt = null;
      if (input.requireApproval && changedWork && next.status === 'active')
        next = { ...next, approved: false, approvedBy: null, status: 'awaiting_approval' };
      for (const id of touched) {
        const b = after.get(id)!;
        const why = applied.added.some((x) => x.id === id)
          ? 'replan new'
          : applied.cancelled.some((x) => x.id === id)
            ? 'replan cancel'
            : applied.changed.some((x) => x.id === id)
              ? 'replan edit'
              : 'index';
        tx.put('beads', id, b, `${why} beads/${id}`);
      }
      let landed = false;
      if (next.status === 'active' && finalBeads.every((b) => b.status === 'closed')) {
        next = landConvoy(next, at);
        landed = true;
      }
      tx.put('convoys', convoyId, next, `replan convoys/${convoyId}`);
      const summary = anything
        ? `${input.by} re-planned "${convoy.title}": ${applied.added.length} new, ${applied.changed.length} changed, ${applied.cancelled.length} cancelled`
        : `${input.by} asked to re-plan "${convoy.title}"; nothing that has not started needed to change`;
      rig.emit(tx, 'convoy_planned', `${summary}${next.status === 'awaiting_approval' && changedWork ? ' (awaiting approval)' : ''}`, {
        convoy: convoyId,
        url: convoy.source?.issue?.url ?? null,
      });
      if (landed) rig.emit(tx, 'convoy_landed', `convoy "${convoy.title}" landed: every bead left is closed`, { convoy: convoyId });
      return {
        ...base,
        status: anything ? ('replanned' as const) : ('unchanged' as const),
        reason: anything ? null : unchangedReason(beads),
        convoy: next,
        beads: finalBeads,
        added: applied.added.map((b) => after.get(b.id)!),
        changed: applied.changed.map((b) => after.get(b.id)!),
        cancelled: applied.cancelled.map((b) => after.get(b.id)!),
        fixed: applied.fixed,
      };
    },
    { actor: rig.actor, message: 'replan' },
  );
}

/**
 * What the re-plan under `key` did, as beads now: a redelivery gets the same lists as the
 * first delivery, so the surface can finish mirroring them (each forge step is an ensure).
 */
async function logged(rig: Rig, convoy: Convoy, key: string): Promise<Pick<ReplanOutcome, 'added' | 'changed' | 'cancelled' | 'fixed'>> {
  const record = convoy.replanLog?.[key];
  if (!record) return { added: [], changed: [], cancelled: [], fixed: [] };
  const read = async (ids: string[]) => (await rig.ledger.getMany<Bead>('beads', ids)).map((b) => b.value);
  return {
    added: await read(record.added),
    changed: await read(record.changed),
    cancelled: await read(record.cancelled),
    fixed: await read(record.fixed),
  };
}

async function readConvoy(rig: Rig, convoyId: string): Promise<{ convoy: Convoy; beads: Bead[] }> {
  const found = await rig.ledger.get<Convoy>('convoys', convoyId);
  if (!found) throw new GastownError('gastown_not_found', `no convoy ${convoyId}`, { convoy: convoyId });
  const beads = await rig.ledger.getMany<Bead>('beads', found.value.beads);
  return { convoy: found.value, beads: beads.map((b) => b.value) };
}

function keyOf(b: Bead): string {
  return b.key ?? b.id;
}

function describe(beads: Bead[]): ReplanBead[] {
  const keyById = new Map(beads.map((b) => [b.id, keyOf(b)] as const));
  return beads.map((b) => ({
    key: keyOf(b),
    id: b.id,
    title: b.title,
    description: b.body,
    acceptance: [...b.acceptance],
    files: [...b.files],
    blockedBy: b.blockedBy.flatMap((id) => (keyById.has(id) ? [keyById.get(id)!] : [])),
    status: b.status,
    started: !notStarted(b),
  }));
}

function unchangedReason(beads: Bead[]): string {
  return beads.every((b) => !notStarted(b))
    ? 'every bead has already started, and started work is kept as it is'
    : 'the revised plan is the same as the current one';
}

/**
 * The pure part: which beads the revised plan adds, changes and cancels. The whole result
 * (started beads as they are, plus the plan's other beads) must pass the plan rules and the
 * bead cap, else nothing changes.
 */
function applyRevision(
  convoy: Convoy,
  beads: Bead[],
  plan: Plan,
  maxBeads: number,
  taken: Set<string>,
  at: string,
): { beads: Bead[]; added: Bead[]; changed: Bead[]; cancelled: Bead[]; fixed: Bead[] } {
  const byKey = new Map(beads.map((b) => [keyOf(b), b] as const));
  const started = beads.filter((b) => !notStarted(b));
  const startedKeys = new Set(started.map(keyOf));
  const planned = plan.beads.filter((pb) => !startedKeys.has(pb.key));
  const fixed = plan.beads.flatMap((pb) => {
    const b = byKey.get(pb.key);
    return b && startedKeys.has(pb.key) && differs(b, pb, beads) ? [b] : [];
  });
  // Started beads stay as they are; their edges (to beads that are all closed or started) too.
  const whole: Plan = {
    summary: plan.summary,
    beads: [...started.map((b) => asPlanBead(b, beads)), ...planned],
  };
  const errors = validatePlan(whole, { maxBeads });
  if (errors.length > 0) throw new GastownError('gastown_plan_invalid', `the revised plan is invalid: ${errors.join('; ')}`, { errors });

  const fresh = planned.filter((pb) => !byKey.has(pb.key));
  // A key named again after it was cancelled is new work: it gets a new id (the old one is taken).
  const freshIds = planBeadIds(convoy.id, { summary: plan.summary, beads: fresh }, taken);
  const idOf = (key: string): string => byKey.get(key)?.id ?? freshIds.get(key)!;
  const added: Bead[] = [];
  const changed: Bead[] = [];
  const kept: Bead[] = [];
  for (const pb of planned) {
    const existing = byKey.get(pb.key);
    const fields = {
      title: pb.title.trim(),
      body: pb.description,
      acceptance: [...pb.acceptance],
      files: [...pb.files],
      blockedBy: [...new Set(pb.blockedBy.map(idOf))],
    };
    if (!existing) {
      added.push(newBead({ ...fields, convoy: convoy.id, key: pb.key }, idOf(pb.key), at));
      continue;
    }
    if (!differs(existing, pb, beads)) {
      kept.push(existing);
      continue;
    }
    const edited: Bead = { ...existing, ...fields, updatedAt: at };
    changed.push(edited);
  }
  const plannedKeys = new Set(planned.map((pb) => pb.key));
  const cancelled = beads
    .filter((b) => notStarted(b) && !plannedKeys.has(keyOf(b)))
    .map((b) => transitionBead(b, 'closed', at, { closeReason: 'cancelled: re-planned' }));
  const next = new Map([...kept, ...changed].map((b) => [b.id, b] as const));
  // The convoy's order: its beads as they were (started ones untouched), then the new ones.
  const ordered = beads.flatMap((b) => (startedKeys.has(keyOf(b)) ? [b] : next.has(b.id) ? [next.get(b.id)!] : []));
  return { beads: [...ordered, ...added], added, changed, cancelled, fixed };
}

function asPlanBead(b: Bead, beads: Bead[]): PlanBead {
  const keyById = new Map(beads.map((x) => [x.id, keyOf(x)] as const));
  return {
    key: keyOf(b),
    title: b.title,
    description: b.body,
    acceptance: [...b.acceptance],
    files: [...b.files],
    // Edges to beads outside the convoy are not the plan's to judge.
    blockedBy: b.blockedBy.flatMap((id) => (keyById.has(id) ? [keyById.get(id)!] : [])),
  };
}

function differs(b: Bead, pb: PlanBead, beads: Bead[]): boolean {
  const now = asPlanBead(b, beads);
  const same = (x: string[], y: string[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return (
    now.title !== pb.title.trim() ||
    now.description !== pb.description ||
    !same(now.acceptance, pb.acceptance) ||
    !same(now.files, pb.files) ||
    !same([...now.blockedBy].sort(), [...new Set(pb.blockedBy)].sort())
  );
}

function sumUsage(a: ModelUsage | null, b: ModelUsage | null): ModelUsage | null {
  if (!b) return a;
  if (!a) return b;
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    costUsd: a.costUsd + b.costUsd,
  };
}
