import { hexDigest } from '../digest.js';
import { GastownError } from '../errors.js';
import { newBead } from '../town/bead.js';
import { newConvoy } from '../town/convoy.js';
import { parseBudget, plannedBudget } from '../town/costs.js';
import { shortId } from '../town/ids.js';
import { planToBeadInputs, validatePlan } from '../town/plan.js';
import type { Bead, Budget, Convoy, ConvoySource, ForgeLink, ModelUsage, Plan } from '../town/types.js';
import { beadIds } from './beads.js';
import { withDependents } from './dependents.js';
import type { Rig } from './rig.js';

export interface RecordPlanInput {
  /** What the plan answers (`github:owner/repo#12`, `local:<goal hash>`): the same key records once. */
  sourceKey: string;
  title: string;
  source: ConvoySource;
  plan: Plan;
  planner: Convoy['planner'];
  usage: ModelUsage | null;
  requireApproval: boolean;
  maxBeads?: number;
  /**
   * The repository's default budget for a plan that names none (`.github/gastown.yml`
   * `budget:`); undefined: the rig's settings (`gt init --budget`), null: none.
   */
  budget?: Budget | null;
  /** The most a plan may give its convoy (`maxConvoyBudget`); undefined: the rig's settings, null: no cap. */
  maxBudget?: Budget | null;
}

export interface RecordedConvoy {
  convoy: Convoy;
  beads: Bead[];
}

/** The convoy id a source key always maps to, so a redelivered trigger finds the same convoy. */
export function convoyIdFor(sourceKey: string): string {
  const n = BigInt(`0x${hexDigest('sha256', sourceKey).slice(0, 16)}`);
  return `cv-${n.toString(36).padStart(8, '0').slice(0, 8)}`;
}

/**
 * A plan's bead ids, derived from its convoy and each bead's plan key alone (no clock, no
 * randomness): two replicas that record the same plan at once write the same refs, which
 * sync then merges into one plan instead of two. Their length does not follow the rig's
 * size (at least 6 characters, room for about 2 billion ids) so that two ledgers a few
 * beads apart still agree; an id taken by another bead grows by a character, as every id does.
 */
export function planBeadIds(convoyId: string, plan: Plan, taken: Set<string>): Map<string, string> {
  const keyToId = new Map<string, string>();
  const population = Math.max(PLAN_ID_POPULATION, taken.size + plan.beads.length);
  for (const b of plan.beads) {
    const id = shortId('gt', `${convoyId}\u0000${b.key}`, (x) => taken.has(x), population);
    taken.add(id);
    keyToId.set(b.key, id);
  }
  return keyToId;
}

/** 36^4 - 1: the largest population `shortId` still gives 6 characters. */
const PLAN_ID_POPULATION = 36 ** 4 - 1;

export async function findConvoyBySource(rig: Rig, sourceKey: string): Promise<RecordedConvoy | null> {
  const found = await rig.ledger.get<Convoy>('convoys', convoyIdFor(sourceKey));
  if (!found) return null;
  if (found.value.sourceKey && found.value.sourceKey !== sourceKey)
    throw new GastownError('gastown_conflict', `convoy id ${found.id} is taken by another source`);
  const beads = await rig.ledger.getMany<Bead>('beads', found.value.beads);
  return { convoy: found.value, beads: beads.map((b) => b.value) };
}

/**
 * Records a Mayor's plan: the convoy and every bead in one transaction, before anything is
 * written to a forge. Idempotent on the source key: a second call returns what the first
 * recorded (with any links recorded since), so redelivered webhooks plan once.
 */
export async function recordPlan(rig: Rig, input: RecordPlanInput): Promise<RecordedConvoy> {
  const errors = validatePlan(input.plan, { maxBeads: input.maxBeads ?? 50 });
  if (errors.length) throw new GastownError('gastown_plan_invalid', `the plan is invalid: ${errors.join('; ')}`, { errors });
  const existing = await findConvoyBySource(rig, input.sourceKey);
  if (existing) return existing;
  const convoyId = convoyIdFor(input.sourceKey);
  const keyToId = planBeadIds(convoyId, input.plan, await beadIds(rig));
  const at = rig.at();
  const { budget, clamped } = plannedBudget({
    asked: input.plan.budget ?? null,
    configured: input.budget !== undefined ? input.budget : settingsBudget(rig.settings.budget),
    max: input.maxBudget !== undefined ? input.maxBudget : settingsBudget(rig.settings.maxConvoyBudget),
  });
  // A plan's edges stay inside the plan, so its beads carry their whole dependents index.
  const beads = withDependents(
    planToBeadInputs(input.plan, keyToId, convoyId).map((bi, i) => newBead(bi, keyToId.get(input.plan.beads[i]!.key)!, at)),
  );
  const convoy: Convoy = {
    ...newConvoy(
      {
        title: input.title,
        beads: beads.map((b) => b.id),
        approved: !input.requireApproval,
        source: input.source,
        planner: input.planner,
        usage: input.usage,
        budget,
      },
      convoyId,
      at,
    ),
    ...(clamped ? { budgetNote: clamped } : {}),
    sourceKey: input.sourceKey,
    materialisedAt: null,
    lastError: null,
  };
  return rig.ledger.transact(
    async (tx) => {
      const again = await tx.get<Convoy>('convoys', convoyId);
      if (again) {
        const bs = await rig.ledger.getMany<Bead>('beads', again.beads);
        return { convoy: again, beads: bs.map((b) => b.value) };
      }
      for (const b of beads) tx.put('beads', b.id, b, `plan beads/${b.id}`);
      tx.put('convoys', convoyId, convoy, `plan convoys/${convoyId}`);
      rig.emit(
        tx,
        'convoy_planned',
        `the Mayor planned "${convoy.title}" as ${beads.length} beads${input.requireApproval ? ' (awaiting approval)' : ''}`,
        {
          convoy: convoyId,
          url: input.source.issue?.url ?? null,
        },
      );
      return { convoy, beads };
    },
    { actor: rig.actor, message: 'plan' },
  );
}

/** Records the forge object that mirrors a bead (its child issue). Idempotent. */
export async function recordBeadIssue(rig: Rig, beadId: string, link: ForgeLink): Promise<void> {
  await rig.ledger.transact(
    async (tx) => {
      const b = await tx.get<Bead>('beads', beadId);
      if (!b) throw new GastownError('gastown_not_found', `no bead ${beadId}`);
      if (b.issue && b.issue.number === link.number && b.issue.id === link.id) return;
      tx.put('beads', beadId, { ...b, issue: link, updatedAt: rig.at() }, `link beads/${beadId}`);
    },
    { actor: rig.actor },
  );
}

async function changeConvoy(
  rig: Rig,
  convoyId: string,
  change: (c: Convoy) => Convoy | null,
  event?: (c: Convoy) => [Parameters<Rig['emit']>[1], string],
): Promise<Convoy> {
  return rig.ledger.transact(
    async (tx) => {
      const c = await tx.get<Convoy>('convoys', convoyId);
      if (!c) throw new GastownError('gastown_not_found', `no convoy ${convoyId}`);
      const next = change(c);
      if (!next) return c;
      tx.put('convoys', convoyId, { ...next, updatedAt: rig.at() });
      if (event) {
        const [type, message] = event(next);
        rig.emit(tx, type, message, { convoy: convoyId });
      }
      return next;
    },
    { actor: rig.actor },
  );
}

/** Records a surface's mark on the convoy (see `Convoy.marks`). Idempotent. */
export function setConvoyMark(rig: Rig, convoyId: string, key: string, value: string | number): Promise<Convoy> {
  return changeConvoy(rig, convoyId, (c) => (c.marks?.[key] === value ? null : { ...c, marks: { ...c.marks, [key]: value } }));
}

/** Approves a plan (by someone with write access: the caller checks). Approving twice is a no-op. */
export function approveConvoy(rig: Rig, convoyId: string, by: string): Promise<Convoy> {
  return changeConvoy(
    rig,
    convoyId,
    (c) => {
      if (c.approved) return null;
      if (c.status !== 'awaiting_approval') throw new GastownError('gastown_illegal_transition', `convoy ${convoyId} is ${c.status}`);
      return { ...c, approved: true, approvedBy: by, status: 'active' };
    },
    (c) => ['convoy_approved', `${by} approved "${c.title}"`],
  );
}

export function markMaterialised(rig: Rig, convoyId: string): Promise<Convoy> {
  return changeConvoy(rig, convoyId, (c) =>
    c.materialisedAt && !c.lastError ? null : { ...c, materialisedAt: c.materialisedAt ?? rig.at(), lastError: null },
  );
}

/** Records a failed planning or materialising attempt: on the convoy when there is one, always in the feed. */
export async function recordPlanFailure(
  rig: Rig,
  f: { sourceKey: string; convoyId: string | null; code: string; message: string },
): Promise<void> {
  const lastError = { code: f.code, message: f.message, at: rig.at() };
  if (f.convoyId && (await rig.ledger.get('convoys', f.convoyId))) {
    await changeConvoy(
      rig,
      f.convoyId,
      (c) => ({ ...c, lastError }),
      () => ['convoy_failed', `planning ${f.sourceKey} failed: ${f.message}`],
    );
    return;
  }
  await rig.ledger.transact((tx) => void rig.emit(tx, 'convoy_failed', `planning ${f.sourceKey} failed (${f.code}): ${f.message}`), {
    actor: rig.actor,
  });
}

/** A budget the rig's settings hold as text (`$5`, `200k`), checked when they were written. */
function settingsBudget(text: string | null): Budget | null {
  return text === null ? null : parseBudget(text).budget;
}
