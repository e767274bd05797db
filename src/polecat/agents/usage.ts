import type { ModelUsage } from '../../town/types.js';

/** The token counts of one Messages API reply (a subset of the SDK's Usage). */
export interface ApiUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}

export function emptyUsage(): ModelUsage {
  return { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0 };
}

/** Adds one reply's usage to a running total; `cost` prices that reply alone. */
export function addUsage(total: ModelUsage, api: ApiUsage, cost: (u: Omit<ModelUsage, 'costUsd'>) => number): ModelUsage {
  const call = {
    inputTokens: api.input_tokens,
    outputTokens: api.output_tokens,
    cacheReadTokens: api.cache_read_input_tokens ?? 0,
    cacheWriteTokens: api.cache_creation_input_tokens ?? 0,
  };
  return {
    inputTokens: total.inputTokens + call.inputTokens,
    outputTokens: total.outputTokens + call.outputTokens,
    cacheReadTokens: total.cacheReadTokens + call.cacheReadTokens,
    cacheWriteTokens: total.cacheWriteTokens + call.cacheWriteTokens,
    costUsd: total.costUsd + cost(call),
  };
}
