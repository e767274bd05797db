import type { ModelUsage } from '../town/types.js';

/**
 * Cost estimates for the convoy status comment and the CLI. They are estimates: the
 * table is small and static, and a model we do not know is priced like Sonnet (the
 * default Mayor model), which is closer than zero for every current model.
 */

/** US dollars per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
}

const SONNET: ModelPrice = { input: 3, output: 15 };

const PRICES: Record<string, ModelPrice> = {
  'claude-opus-4-6': { input: 5, output: 25 },
  'claude-opus-4-5': { input: 5, output: 25 },
  'claude-opus-4-1': { input: 15, output: 75 },
  'claude-opus-4-0': { input: 15, output: 75 },
  'claude-opus-4': { input: 15, output: 75 },
  'claude-sonnet-4-6': SONNET,
  'claude-sonnet-4-5': SONNET,
  'claude-sonnet-4-0': SONNET,
  'claude-sonnet-4': SONNET,
  'claude-3-7-sonnet': SONNET,
  'claude-haiku-4-5': { input: 1, output: 5 },
  'claude-3-5-haiku': { input: 0.8, output: 4 },
  'claude-3-haiku': { input: 0.25, output: 1.25 },
};

/** Prompt-cache writes (5-minute ephemeral) cost 1.25x input; cache reads 0.1x input. */
const CACHE_WRITE_FACTOR = 1.25;
const CACHE_READ_FACTOR = 0.1;

/**
 * The price of a model id, with or without a date or `-latest` suffix
 * (`claude-sonnet-4-5-20250929`). Exact matching on purpose: a prefix match would price
 * `claude-opus-4-7` like `claude-opus-4`.
 */
export function priceOf(model: string): ModelPrice {
  const base = model.replace(/-(?:\d{8}|latest)$/, '');
  return PRICES[base] ?? SONNET;
}

export type TokenCounts = Omit<ModelUsage, 'costUsd'>;

export function estimateCostUsd(model: string, usage: TokenCounts): number {
  const price = priceOf(model);
  const micro =
    usage.inputTokens * price.input +
    usage.outputTokens * price.output +
    usage.cacheWriteTokens * price.input * CACHE_WRITE_FACTOR +
    usage.cacheReadTokens * price.input * CACHE_READ_FACTOR;
  return roundUsd(micro / 1_000_000);
}

/** The fields of the SDK's `Usage` we read (cache counts are null when not reported). */
export interface ApiUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/**
 * One API call's usage as a `ModelUsage`, with its estimated cost. The API's
 * `input_tokens` excludes cached tokens, so the four counts add up without overlap.
 */
export function toModelUsage(apiUsage: ApiUsage, model = 'claude-sonnet-4-6'): ModelUsage {
  const counts: TokenCounts = {
    inputTokens: apiUsage.input_tokens,
    outputTokens: apiUsage.output_tokens,
    cacheWriteTokens: apiUsage.cache_creation_input_tokens ?? 0,
    cacheReadTokens: apiUsage.cache_read_input_tokens ?? 0,
  };
  return { ...counts, costUsd: estimateCostUsd(model, counts) };
}

export function emptyUsage(): ModelUsage {
  return { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0 };
}

/** Sum of two usages (for several calls in one plan, or several plans in one convoy). */
export function addUsage(a: ModelUsage, b: ModelUsage): ModelUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    costUsd: roundUsd(a.costUsd + b.costUsd),
  };
}

// Micro-dollar precision: enough for per-call costs, and sums stay free of float noise.
function roundUsd(usd: number): number {
  return Math.round(usd * 1_000_000) / 1_000_000;
}
