import { estimateCostUsd } from '../../model/pricing.js';
import type { ModelUsage } from '../../town/types.js';

/** How a command agent's output says what it spent; a rig setting names one (`agent.usageParser`). */
export const USAGE_PARSERS = ['claude-json'] as const;
export type UsageParser = (typeof USAGE_PARSERS)[number];

const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);

/**
 * `claude -p --output-format json` (one JSON object) or `stream-json` (one per line) ends with
 * a `result` object holding `usage` (the API's four token counts) and `total_cost_usd`
 * (`cost_usd` in older versions). The last such object in the output counts; none is null
 * (unknown), never zero. The agent's output is untrusted: only numbers are taken from it.
 */
function claudeJson(output: string): ModelUsage | null {
  const candidates = [output.trim(), ...output.split('\n').reverse()].filter((l) => l.trim().startsWith('{'));
  for (const text of candidates) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      continue;
    }
    const v = value as { usage?: Record<string, unknown>; total_cost_usd?: unknown; cost_usd?: unknown; model?: unknown };
    if (!v || typeof v !== 'object' || !v.usage || typeof v.usage !== 'object') continue;
    const counts = {
      inputTokens: count(v.usage.input_tokens),
      outputTokens: count(v.usage.output_tokens),
      cacheWriteTokens: count(v.usage.cache_creation_input_tokens),
      cacheReadTokens: count(v.usage.cache_read_input_tokens),
    };
    const reported = count(v.total_cost_usd ?? v.cost_usd);
    const costUsd = reported || estimateCostUsd(typeof v.model === 'string' ? v.model : 'claude-sonnet-4-6', counts);
    return { ...counts, costUsd };
  }
  return null;
}

export function parseAgentUsage(parser: UsageParser | undefined, output: string): ModelUsage | null {
  if (parser === 'claude-json') return claudeJson(output);
  return null;
}
