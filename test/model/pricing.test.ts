import { describe, expect, it } from 'vitest';

import { addUsage, emptyUsage, estimateCostUsd, priceOf, toModelUsage } from '../../src/model/pricing.js';

const NONE = { inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, cacheReadTokens: 0 };

describe('pricing', () => {
  it('prices a model id with or without a date suffix, and unknown models like Sonnet', () => {
    expect(priceOf('claude-haiku-4-5-20251001')).toEqual({ input: 1, output: 5 });
    expect(priceOf('claude-opus-4-1')).toEqual({ input: 15, output: 75 });
    expect(priceOf('claude-sonnet-4-5-latest')).toEqual({ input: 3, output: 15 });
    expect(priceOf('some-future-model')).toEqual({ input: 3, output: 15 });
    // No prefix matching: a newer Opus is not priced like claude-opus-4.
    expect(priceOf('claude-opus-4-9')).toEqual({ input: 3, output: 15 });
  });

  it('charges input, output, 1.25x input for cache writes and 0.1x input for cache reads', () => {
    const million = 1_000_000;

    expect(estimateCostUsd('claude-sonnet-4-5', { ...NONE, inputTokens: million })).toBe(3);
    expect(estimateCostUsd('claude-sonnet-4-5', { ...NONE, outputTokens: million })).toBe(15);
    expect(estimateCostUsd('claude-sonnet-4-5', { ...NONE, cacheWriteTokens: million })).toBe(3.75);
    expect(estimateCostUsd('claude-sonnet-4-5', { ...NONE, cacheReadTokens: million })).toBe(0.3);
    expect(estimateCostUsd('claude-haiku-4-5', { inputTokens: 2_000, outputTokens: 1_000, cacheWriteTokens: 0, cacheReadTokens: 0 })).toBe(
      0.007,
    );
  });

  it('maps the API usage, treating missing cache counts as zero', () => {
    const usage = toModelUsage(
      { input_tokens: 100, output_tokens: 50, cache_creation_input_tokens: null, cache_read_input_tokens: 2_000 },
      'claude-sonnet-4-5',
    );

    expect(usage).toEqual({ inputTokens: 100, outputTokens: 50, cacheWriteTokens: 0, cacheReadTokens: 2_000, costUsd: 0.00165 });
  });

  it('adds usages field by field without float noise', () => {
    const a = { inputTokens: 1, outputTokens: 2, cacheWriteTokens: 3, cacheReadTokens: 4, costUsd: 0.1 };
    const b = { inputTokens: 10, outputTokens: 20, cacheWriteTokens: 30, cacheReadTokens: 40, costUsd: 0.2 };

    expect(addUsage(a, b)).toEqual({ inputTokens: 11, outputTokens: 22, cacheWriteTokens: 33, cacheReadTokens: 44, costUsd: 0.3 });
    expect(addUsage(emptyUsage(), a)).toEqual(a);
  });
});
