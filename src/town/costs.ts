/**
 * Costs and budgets, pure: what agent runs spent (the usage records on beads), a convoy's
 * budget and whether it is spent. The runner enforces budgets (polecat/runner/budget-check.ts);
 * the model never sees them, so a model cannot talk its way past one.
 */
import { GastownError } from '../errors.js';
import type { Bead, Budget, ModelUsage, UsageRecord } from './types.js';

export interface Spent {
  /** Sum of the runs whose usage is known. */
  usage: ModelUsage;
  runs: number;
  /** Runs whose agent reported nothing (a command agent without a parser): not in `usage`. */
  unknownRuns: number;
}

export function zeroUsage(): ModelUsage {
  return { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0 };
}

/** Every token the model processed for it, cached or not: what a token budget counts. */
export function totalTokens(u: ModelUsage): number {
  return u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheWriteTokens;
}

export function sumUsage(a: ModelUsage, b: ModelUsage): ModelUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    // Micro-dollars, so sums of many runs stay free of float noise.
    costUsd: Math.round((a.costUsd + b.costUsd) * 1_000_000) / 1_000_000,
  };
}

export function spentOf(records: readonly UsageRecord[]): Spent {
  let usage = zeroUsage();
  let unknownRuns = 0;
  for (const r of records) {
    if (r.usage) usage = sumUsage(usage, r.usage);
    else unknownRuns++;
  }
  return { usage, runs: records.length, unknownRuns };
}

export function beadsSpent(beads: readonly Bead[]): Spent {
  return spentOf(beads.flatMap((b) => b.usage ?? []));
}

/** The bead's usage records with `record` in place of the one for the same run. */
export function withUsageRecord(records: readonly UsageRecord[] | undefined, record: UsageRecord): UsageRecord[] {
  return [...(records ?? []).filter((r) => r.run !== record.run), record];
}

/** Why the budget is spent (a sentence), or null while there is some left. Reaching it counts as spent. */
export function budgetSpent(budget: Budget | null | undefined, spent: Spent): string | null {
  if (!budget) return null;
  if (budget.usd !== undefined && spent.usage.costUsd >= budget.usd)
    return `budget spent: $${formatUsd(spent.usage.costUsd)} of $${formatUsd(budget.usd)}`;
  const tokens = totalTokens(spent.usage);
  if (budget.tokens !== undefined && tokens >= budget.tokens) return `budget spent: ${tokens} of ${budget.tokens} tokens`;
  return null;
}

export function formatUsd(usd: number): string {
  return usd >= 100 ? usd.toFixed(0) : usd >= 1 ? usd.toFixed(2) : usd.toFixed(4).replace(/0{1,2}$/, '');
}

/** `$1.23 of $5.00 (12,345 tokens)`, or without a budget just what was spent; unknown runs are named. */
export function spentText(spent: Spent, budget?: Budget | null): string {
  const tokens = totalTokens(spent.usage);
  const parts = [`$${formatUsd(spent.usage.costUsd)}`];
  if (budget?.usd !== undefined) parts.push(`of $${formatUsd(budget.usd)}`);
  parts.push(budget?.tokens !== undefined ? `(${tokens} of ${budget.tokens} tokens)` : `(${tokens} tokens)`);
  if (spent.unknownRuns) parts.push(`+ ${spent.unknownRuns} run${spent.unknownRuns === 1 ? '' : 's'} of unknown cost`);
  return parts.join(' ');
}

/**
 * A budget as people write it: `$5`, `5usd`, `2.50$` (dollars), `200000`, `200k`, `1.5m`,
 * `300k tokens` (tokens); several separated by commas or spaces (`$5,200k`). With `relative`
 * a leading `+` is allowed (`+$5`): the amount to add. Anything else is a one-line error.
 */
export function parseBudget(text: string): { budget: Budget; relative: boolean } {
  const trimmed = text.trim();
  const relative = trimmed.startsWith('+');
  const budget: Budget = {};
  const parts = trimmed
    .replace(/^\+/, '')
    .split(/[,\s]+(?!tokens?\b)/i)
    .filter(Boolean);
  if (parts.length === 0) throw badBudget(text);
  for (const part of parts) {
    const usd = /^\+?(?:\$\s*(\d+(?:\.\d+)?)|(\d+(?:\.\d+)?)\s*(?:\$|usd))$/i.exec(part);
    const tok = /^\+?(\d+(?:\.\d+)?)\s*([km]?)(?:\s*tokens?)?$/i.exec(part);
    if (usd) budget.usd = Number(usd[1] ?? usd[2]);
    else if (tok) budget.tokens = Math.round(Number(tok[1]) * ({ k: 1e3, m: 1e6 }[tok[2]!.toLowerCase()] ?? 1));
    else throw badBudget(text);
  }
  for (const v of [budget.usd, budget.tokens]) if (v !== undefined && !(v > 0 && Number.isFinite(v))) throw badBudget(text);
  return { budget, relative };
}

function badBudget(text: string): GastownError {
  return new GastownError(
    'gastown_bad_input',
    `not a budget: ${JSON.stringify(text)} (write dollars as $5 or tokens as 200k; +$5 adds to a convoy's budget)`,
  );
}

/** `base` raised by `delta` (or replaced by it when not relative); a kind the base lacks is added. */
export function applyBudget(base: Budget | null | undefined, delta: Budget, relative: boolean): Budget {
  if (!relative || !base) return { ...delta };
  const next: Budget = { ...base };
  if (delta.usd !== undefined) next.usd = Math.round(((base.usd ?? 0) + delta.usd) * 1_000_000) / 1_000_000;
  if (delta.tokens !== undefined) next.tokens = (base.tokens ?? 0) + delta.tokens;
  return next;
}

export function budgetText(budget: Budget | null | undefined): string {
  if (!budget) return 'no budget';
  const parts: string[] = [];
  if (budget.usd !== undefined) parts.push(`$${formatUsd(budget.usd)}`);
  if (budget.tokens !== undefined) parts.push(`${budget.tokens} tokens`);
  return parts.join(' and ');
}

/** Where a convoy's budget came from, for the plan text and the status comment. */
export interface PlannedBudget {
  budget: Budget | null;
  /** Set when the Mayor's plan asked for more than the repository allows: what it asked, and the cap. */
  clamped: string | null;
}

/**
 * A planned convoy's budget. Precedence: the Mayor's plan (`Plan.budget`), else the
 * repository's default (`budget:`), else the repository's maximum (`maxConvoyBudget`), which
 * then caps whatever was chosen, kind by kind: a dollar plan under a token maximum gets both
 * limits, and a plan asking more than the maximum gets the maximum and says so. A person's
 * own `gt convoy create --budget` and `gt convoy budget` are not capped (a writer decides).
 */
export function plannedBudget(input: { asked?: Budget | null; configured?: Budget | null; max?: Budget | null }): PlannedBudget {
  const some = (b: Budget | null | undefined) => (b && (b.usd !== undefined || b.tokens !== undefined) ? b : null);
  const asked = some(input.asked);
  const chosen = asked ?? some(input.configured);
  const max = some(input.max);
  if (!max) return { budget: chosen ? { ...chosen } : null, clamped: null };
  if (!chosen) return { budget: { ...max }, clamped: null };
  const budget: Budget = {};
  let over = false;
  for (const kind of ['usd', 'tokens'] as const) {
    const want = chosen[kind];
    const cap = max[kind];
    if (want !== undefined && cap !== undefined && want > cap) over = true;
    const v = want === undefined ? cap : cap === undefined ? want : Math.min(want, cap);
    if (v !== undefined) budget[kind] = v;
  }
  const clamped = over && asked ? `the plan asked for ${budgetText(asked)}; the repository allows at most ${budgetText(max)}` : null;
  return { budget, clamped };
}

/**
 * Whether an agent turn of a budgeted convoy may start now (the convoy-wide bound; see
 * rig/turn-reservations.ts). `inFlight`: turns of the convoy other runs hold right now;
 * `largest`: the most one turn of this convoy has cost so far, per kind (null before any).
 * - `spent`: the budget is reached; stop.
 * - `go`: no other turn is in flight (this one may cross the budget, alone), or `inFlight + 1`
 *   turns of the largest size seen still leave the budget unreached, so running it beside the
 *   others cannot cross it.
 * - `wait`: otherwise, until the turns in flight end (their cost then known).
 */
export function turnDecision(
  budget: Budget | null | undefined,
  spent: Spent,
  inFlight: number,
  largest: ModelUsage | null,
): 'go' | 'wait' | 'spent' {
  if (budgetSpent(budget, spent)) return 'spent';
  if (inFlight === 0) return 'go';
  if (!largest) return 'wait';
  let projected = spent.usage;
  for (let i = 0; i <= inFlight; i++) projected = sumUsage(projected, largest);
  return budgetSpent(budget, { ...spent, usage: projected }) ? 'wait' : 'go';
}

/** Field by field, the larger of two turns' costs. */
export function largerUsage(a: ModelUsage | null, b: ModelUsage): ModelUsage {
  if (!a) return { ...b };
  return {
    inputTokens: Math.max(a.inputTokens, b.inputTokens),
    outputTokens: Math.max(a.outputTokens, b.outputTokens),
    cacheReadTokens: Math.max(a.cacheReadTokens, b.cacheReadTokens),
    cacheWriteTokens: Math.max(a.cacheWriteTokens, b.cacheWriteTokens),
    costUsd: Math.max(a.costUsd, b.costUsd),
  };
}

/** `after − before` (a run's cumulative usage at two reports): what the turn between them cost. */
export function usageSince(after: ModelUsage, before: ModelUsage | null): ModelUsage {
  if (!before) return { ...after };
  return {
    inputTokens: Math.max(0, after.inputTokens - before.inputTokens),
    outputTokens: Math.max(0, after.outputTokens - before.outputTokens),
    cacheReadTokens: Math.max(0, after.cacheReadTokens - before.cacheReadTokens),
    cacheWriteTokens: Math.max(0, after.cacheWriteTokens - before.cacheWriteTokens),
    costUsd: Math.max(0, Math.round((after.costUsd - before.costUsd) * 1_000_000) / 1_000_000),
  };
}
