import { describe, expect, it } from 'vitest';
import {
  applyBudget,
  budgetSpent,
  parseBudget,
  plannedBudget,
  turnDecision,
  spentOf,
  spentText,
  withUsageRecord,
} from '../../src/town/costs.js';
import type { UsageRecord } from '../../src/town/types.js';

const usage = (inputTokens: number, costUsd: number) => ({
  inputTokens,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costUsd,
});
const rec = (run: string, u: ReturnType<typeof usage> | null): UsageRecord => ({
  run,
  polecat: 'nux',
  agent: 'builtin',
  at: '2026-01-02T03:04:05Z',
  usage: u,
});

describe('budgets as people write them', () => {
  it('reads dollars, tokens, both, and increases', () => {
    expect(parseBudget('$5')).toEqual({ budget: { usd: 5 }, relative: false });
    expect(parseBudget('2.50usd')).toEqual({ budget: { usd: 2.5 }, relative: false });
    expect(parseBudget('200k')).toEqual({ budget: { tokens: 200_000 }, relative: false });
    expect(parseBudget('1.5m tokens')).toEqual({ budget: { tokens: 1_500_000 }, relative: false });
    expect(parseBudget('$5,200k')).toEqual({ budget: { usd: 5, tokens: 200_000 }, relative: false });
    expect(parseBudget('+$5')).toEqual({ budget: { usd: 5 }, relative: true });
  });

  it('refuses anything else with one line', () => {
    for (const bad of ['', 'lots', '$-5', '$0', '5 euros', '+'])
      expect(() => parseBudget(bad), bad).toThrow(/^not a budget: .* \(write dollars as \$5 or tokens as 200k/);
  });

  it('adds an increase to the budget, and a kind it lacked', () => {
    expect(applyBudget({ usd: 5 }, { usd: 2.5 }, true)).toEqual({ usd: 7.5 });
    expect(applyBudget({ tokens: 1000 }, { usd: 1 }, true)).toEqual({ tokens: 1000, usd: 1 });
    expect(applyBudget({ usd: 5 }, { tokens: 10 }, false)).toEqual({ tokens: 10 });
    expect(applyBudget(null, { usd: 1 }, true)).toEqual({ usd: 1 });
  });
});

describe('what was spent', () => {
  it('sums known runs, counts unknown ones apart, and replaces a re-reported run', () => {
    let records = withUsageRecord(undefined, rec('0.1', usage(100, 0.01)));
    records = withUsageRecord(records, rec('0.1', usage(300, 0.03)));
    records = withUsageRecord(records, rec('0.2', null));
    const spent = spentOf(records);
    expect(spent).toEqual({ usage: usage(300, 0.03), runs: 2, unknownRuns: 1 });
    expect(spentText(spent, { usd: 1 })).toBe('$0.03 of $1.00 (300 tokens) + 1 run of unknown cost');
  });

  it('is spent once reached, not only once exceeded', () => {
    expect(budgetSpent({ usd: 0.03 }, spentOf([rec('0.1', usage(300, 0.03))]))).toBe('budget spent: $0.03 of $0.03');
    expect(budgetSpent({ tokens: 301 }, spentOf([rec('0.1', usage(300, 0.03))]))).toBeNull();
    expect(budgetSpent({ tokens: 300 }, spentOf([rec('0.1', usage(300, 0.03))]))).toBe('budget spent: 300 of 300 tokens');
    expect(budgetSpent(null, spentOf([rec('0.1', usage(300, 0.03))]))).toBeNull();
  });
});

describe("a planned convoy's budget: the plan's, else the default, else the maximum, capped by the maximum", () => {
  it('takes the plan when it is within the maximum, the default when the plan names none, the maximum when neither does', () => {
    expect(plannedBudget({ asked: { usd: 2 }, configured: { usd: 4 }, max: { usd: 5 } })).toEqual({ budget: { usd: 2 }, clamped: null });
    expect(plannedBudget({ asked: null, configured: { usd: 4 }, max: { usd: 5 } })).toEqual({ budget: { usd: 4 }, clamped: null });
    expect(plannedBudget({ asked: {}, configured: null, max: { usd: 5 } })).toEqual({ budget: { usd: 5 }, clamped: null });
    expect(plannedBudget({ asked: { tokens: 9 }, configured: null, max: null })).toEqual({ budget: { tokens: 9 }, clamped: null });
    expect(plannedBudget({})).toEqual({ budget: null, clamped: null });
  });

  it('clamps a plan asking more than the maximum and says so; a default above it is capped quietly', () => {
    expect(plannedBudget({ asked: { usd: 20 }, configured: { usd: 4 }, max: { usd: 5 } })).toEqual({
      budget: { usd: 5 },
      clamped: 'the plan asked for $20.00; the repository allows at most $5.00',
    });
    expect(plannedBudget({ asked: null, configured: { usd: 9 }, max: { usd: 5 } })).toEqual({ budget: { usd: 5 }, clamped: null });
  });

  it('caps kind by kind: a dollar plan under a token maximum gets both limits', () => {
    expect(plannedBudget({ asked: { usd: 3 }, max: { tokens: 100_000 } })).toEqual({ budget: { usd: 3, tokens: 100_000 }, clamped: null });
    expect(plannedBudget({ asked: { usd: 3, tokens: 500_000 }, max: { usd: 10, tokens: 100_000 } })).toEqual({
      budget: { usd: 3, tokens: 100_000 },
      clamped: 'the plan asked for $3.00 and 500000 tokens; the repository allows at most $10.00 and 100000 tokens',
    });
  });
});

describe('whether a turn of a budgeted convoy may start beside the turns in flight', () => {
  const spent = (tokens: number) => ({ usage: { ...usage(tokens, 0) }, runs: 1, unknownRuns: 0 });
  const turn = usage(100, 0);
  it('alone it may start while the budget is not reached; reached, nothing starts', () => {
    expect(turnDecision({ tokens: 1000 }, spent(999), 0, null)).toBe('go');
    expect(turnDecision({ tokens: 1000 }, spent(1000), 0, turn)).toBe('spent');
  });
  it('beside others only while they all, at the largest turn seen, leave the budget unreached; before any measure, it waits', () => {
    expect(turnDecision({ tokens: 1000 }, spent(0), 1, null)).toBe('wait');
    // 700 + 3 turns of 100 = 1000 reaches it: wait; 600 + 300 leaves some: go.
    expect(turnDecision({ tokens: 1000 }, spent(700), 2, turn)).toBe('wait');
    expect(turnDecision({ tokens: 1000 }, spent(600), 2, turn)).toBe('go');
    expect(turnDecision(null, spent(10_000), 5, turn)).toBe('go');
  });
});
