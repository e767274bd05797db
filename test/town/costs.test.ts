import { describe, expect, it } from 'vitest';
import { applyBudget, budgetSpent, parseBudget, spentOf, spentText, withUsageRecord } from '../../src/town/costs.js';
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
