import Anthropic from '@anthropic-ai/sdk';
import { DEFAULT_MODEL } from './default-model.js';

export { DEFAULT_MODEL };

export const DEFAULT_ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

export interface AnthropicClientOptions {
  apiKey: string;
  baseURL?: string;
  /**
   * SDK-level retries. Defaults to 0: callers such as `planWithModel` own their retry
   * policy (with an injected sleep), and two stacked policies multiply the attempts.
   */
  maxRetries?: number;
  timeoutMs?: number;
}

/**
 * An Anthropic client configured only from its arguments. The base URL is always passed,
 * so `ANTHROPIC_BASE_URL` in the process environment cannot silently redirect a client
 * that was built without one.
 */
export function createAnthropicClient(opts: AnthropicClientOptions): Anthropic {
  return new Anthropic({
    apiKey: opts.apiKey,
    baseURL: opts.baseURL ?? DEFAULT_ANTHROPIC_BASE_URL,
    maxRetries: opts.maxRetries ?? 0,
    ...(opts.timeoutMs !== undefined ? { timeout: opts.timeoutMs } : {}),
  });
}

/**
 * The one place that reads the environment for the model: ANTHROPIC_API_KEY (required;
 * null without it, so callers fall back to the checklist planner), ANTHROPIC_BASE_URL and
 * GASTOWN_MODEL (default `claude-sonnet-4-6`).
 */
export function anthropicFromEnv(env: NodeJS.ProcessEnv): { client: Anthropic; model: string } | null {
  const apiKey = env['ANTHROPIC_API_KEY']?.trim();
  if (!apiKey) return null;
  const baseURL = env['ANTHROPIC_BASE_URL']?.trim() || undefined;
  const model = env['GASTOWN_MODEL']?.trim() || DEFAULT_MODEL;
  return { client: createAnthropicClient({ apiKey, ...(baseURL ? { baseURL } : {}) }), model };
}
