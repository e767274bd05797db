/**
 * Costs and budgets in the ledger: each agent run's usage on its bead, a convoy's budget,
 * the bead paused when it is spent and resumed when a person raises it, and the `gt costs`
 * report. Every write is one compare-and-swap transaction (re-run on a lost race).
 */
import { GastownError } from '../errors.js';
import {
  applyBudget,
  beadsSpent,
  budgetSpent,
  budgetText,
  spentOf,
  spentText,
  sumUsage,
  withUsageRecord,
  zeroUsage,
  type Spent,
} from '../town/costs.js';
import { feedRefs } from '../town/feed-refs.js';
import { transitionBead } from '../town/lifecycle.js';
import type { Bead, Budget, Convoy, Hook, ModelUsage, UsageRecord } from '../town/types.js';
import { allBeads } from './beads.js';
import { checkConvoyId } from '../town/ids.js';
import type { Rig } from './rig.js';
import type { Claim } from './work.js';

/** Records (or replaces) one run's usage on its bead. A run that lost its lease still spent it: no lease check. */
export async function recordUsage(rig: Rig, beadId: string, record: UsageRecord): Promise<void> {
  await rig.ledger.transact(
    async (tx) => {
      const bead = await tx.get<Bead>('beads', beadId);
      if (!bead) return;
      tx.put('beads', beadId, { ...bead, usage: withUsageRecord(bead.usage, record) }, `usage beads/${beadId} run ${record.run}`);
    },
    { actor: record.polecat },
  );
}

export interface ConvoySpend {
  convoy: Convoy;
  spent: Spent;
  /** Why no more turns may run (the budget is spent), or null. */
  spentReason: string | null;
}

/** What a convoy's agents spent against its budget. */
export async function convoySpend(rig: Rig, convoyId: string): Promise<ConvoySpend | null> {
  const convoy = (await rig.ledger.get<Convoy>('convoys', convoyId))?.value;
  if (!convoy) return null;
  const beads = (await rig.ledger.getMany<Bead>('beads', convoy.beads)).map((v) => v.value);
  const spent = beadsSpent(beads);
  return { convoy, spent, spentReason: budgetSpent(convoy.budget, spent) };
}

/**
 * The runner stopped the bead's agent because the convoy's budget is spent (its work is
 * pushed): in_progress → hooked on the same polecat, `paused: budget`, lease dropped. Its
 * hook and branch stay, so the same polecat resumes from its commits once the budget is
 * raised. Null when the bead is no longer this claim's.
 */
export async function pauseBead(rig: Rig, claim: Claim, why: string): Promise<Bead | null> {
  return rig.ledger.transact(
    async (tx) => {
      const bead = await tx.get<Bead>('beads', claim.bead);
      if (!bead || bead.status !== 'in_progress' || bead.assignee !== claim.polecat) return null;
      const next = transitionBead(bead, 'hooked', rig.at(), { assignee: claim.polecat, paused: 'budget' });
      tx.put('beads', bead.id, next, `pause beads/${bead.id}`);
      tx.delete('heartbeats', claim.polecat);
      rig.emit(
        tx,
        'bead_paused',
        `${bead.id} paused: ${why}; raise it with gt convoy budget ${bead.convoy ?? '<convoy>'} +$5`,
        feedRefs(bead),
      );
      return next;
    },
    { actor: claim.runner },
  );
}

export interface BudgetChange {
  convoy: Convoy;
  spent: Spent;
  /** Beads that were paused for budget and may be claimed again. */
  resumed: string[];
}

/**
 * Sets (`$20`) or raises (`+$5`) a convoy's budget. When it is no longer spent, the beads
 * paused for it are unpaused in the same transaction, so runners pick them up again.
 */
export async function changeBudget(rig: Rig, convoyId: string, delta: Budget, relative: boolean): Promise<BudgetChange> {
  checkConvoyId(convoyId);
  return rig.ledger.transact(
    async (tx) => {
      const convoy = await tx.get<Convoy>('convoys', convoyId);
      if (!convoy) throw new GastownError('gastown_not_found', `no convoy ${convoyId}`);
      const budget = applyBudget(convoy.budget, delta, relative);
      const beads: Bead[] = [];
      for (const id of convoy.beads) {
        const b = await tx.get<Bead>('beads', id);
        if (b) beads.push(b);
      }
      const spent = beadsSpent(beads);
      const next: Convoy = { ...convoy, budget, updatedAt: rig.at() };
      tx.put('convoys', convoyId, next, `budget convoys/${convoyId}`);
      const resumed: string[] = [];
      if (!budgetSpent(budget, spent))
        for (const b of beads.filter((x) => x.paused === 'budget')) {
          tx.put('beads', b.id, { ...b, paused: null, updatedAt: rig.at() }, `resume beads/${b.id}`);
          // A new sling time on its hook: a forge dispatches the bead again (its dispatch key changes).
          const hook = b.assignee ? await tx.get<Hook>('hooks', b.assignee) : null;
          if (hook?.bead === b.id) tx.put<Hook>('hooks', b.assignee!, { ...hook, slungAt: rig.at(), slungBy: rig.actor });
          resumed.push(b.id);
        }
      rig.emit(
        tx,
        'budget_raised',
        `convoy ${convoyId} budget ${budgetText(budget)} by ${rig.actor}; spent ${spentText(spent, budget)}${resumed.length ? `; resumed ${resumed.join(', ')}` : ''}`,
        { convoy: convoyId },
      );
      return { convoy: next, spent, resumed };
    },
    { actor: rig.actor },
  );
}

export type CostsBy = 'polecat' | 'bead' | 'day' | 'convoy';

export interface CostsRow {
  key: string;
  usage: ModelUsage;
  runs: number;
  unknownRuns: number;
}

export interface CostsReport {
  by: CostsBy;
  convoy: string | null;
  rows: CostsRow[];
  total: CostsRow;
  /** The convoy's budget, when one convoy was asked for. */
  budget: Budget | null;
  /** What the Mayor's planning cost (convoy usage), reported apart from the agents' runs. */
  planning: ModelUsage;
}

/** `gt costs`: agent runs' usage summed by polecat, bead, day or convoy, for one convoy or the whole rig. */
export async function costsReport(rig: Rig, opts: { convoy?: string; by?: CostsBy } = {}): Promise<CostsReport> {
  const by = opts.by ?? (opts.convoy ? 'bead' : 'convoy');
  let beads = await allBeads(rig);
  const convoys = (await rig.ledger.list<Convoy>('convoys')).map((c) => c.value);
  let convoy: Convoy | null = null;
  if (opts.convoy) {
    checkConvoyId(opts.convoy);
    convoy = convoys.find((c) => c.id === opts.convoy) ?? null;
    if (!convoy) throw new GastownError('gastown_not_found', `no convoy ${opts.convoy}`);
    const members = new Set(convoy.beads);
    beads = beads.filter((b) => members.has(b.id));
  }
  const groups = new Map<string, UsageRecord[]>();
  for (const bead of beads)
    for (const r of bead.usage ?? []) {
      const key =
        by === 'polecat' ? r.polecat : by === 'bead' ? bead.id : by === 'day' ? r.at.slice(0, 10) : (bead.convoy ?? '(no convoy)');
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
  const row = (key: string, records: UsageRecord[]): CostsRow => {
    const s = spentOf(records);
    return { key, usage: s.usage, runs: s.runs, unknownRuns: s.unknownRuns };
  };
  const rows = [...groups].map(([k, rs]) => row(k, rs)).sort((a, b) => a.key.localeCompare(b.key));
  const planning = (convoy ? [convoy] : convoys).reduce((u, c) => (c.usage ? sumUsage(u, c.usage) : u), zeroUsage());
  return {
    by,
    convoy: convoy?.id ?? null,
    rows,
    total: row('total', [...groups.values()].flat()),
    budget: convoy?.budget ?? null,
    planning,
  };
}
