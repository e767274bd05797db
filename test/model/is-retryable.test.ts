import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createAnthropicClient } from '../../src/model/anthropic.js';
import { isRetryable } from '../../src/model/is-retryable.js';

function apiError(status: number, headers: Record<string, string> = {}): APIError {
  return APIError.generate(status, { type: 'error', error: { type: 'x', message: 'm' } }, undefined, new Headers(headers));
}

beforeAll(() => {
  nock.disableNetConnect();
});

afterAll(() => {
  nock.cleanAll();
});

describe('isRetryable', () => {
  it('retries rate limits, overload, server errors and request timeouts', () => {
    for (const status of [408, 409, 429, 500, 502, 503, 504, 529]) expect(isRetryable(apiError(status)), String(status)).toBe(true);
  });

  it('does not retry client errors', () => {
    for (const status of [400, 401, 402, 403, 404, 413, 422]) expect(isRetryable(apiError(status)), String(status)).toBe(false);
  });

  it('follows an explicit x-should-retry header', () => {
    expect(isRetryable(apiError(400, { 'x-should-retry': 'true' }))).toBe(true);
    expect(isRetryable(apiError(503, { 'x-should-retry': 'false' }))).toBe(false);
  });

  it('retries connection failures and timeouts but not a caller abort or other errors', () => {
    expect(isRetryable(new APIConnectionError({ message: 'socket hang up' }))).toBe(true);
    expect(isRetryable(new APIConnectionTimeoutError())).toBe(true);
    expect(isRetryable(new APIUserAbortError())).toBe(false);
    expect(isRetryable(new TypeError('x is not a function'))).toBe(false);
    expect(isRetryable({ status: 529 })).toBe(false);
  });

  it('classifies the error the SDK really throws when the connection fails', async () => {
    const client = createAnthropicClient({ apiKey: 'k', baseURL: 'https://unreachable.anthropic.test', maxRetries: 0 });

    const err = await client.messages
      .create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(APIConnectionError);
    expect(isRetryable(err)).toBe(true);
  });
});
