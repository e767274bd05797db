import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { anthropicFromEnv, createAnthropicClient } from '../../src/model/anthropic.js';
import { anthropicFixture } from '../mayor/anthropic-fixtures.js';

beforeAll(() => {
  nock.disableNetConnect();
});

afterEach(() => {
  nock.cleanAll();
  vi.unstubAllEnvs();
});

describe('createAnthropicClient', () => {
  it('sends requests to the given base URL with the key as a bearer token', async () => {
    const scope = nock('https://api.anthropic.test')
      .matchHeader('authorization', 'Bearer sk-given')
      .post('/v1/messages')
      .reply(200, anthropicFixture('plan-valid.json'));
    const client = createAnthropicClient({ apiKey: 'sk-given', baseURL: 'https://api.anthropic.test' });

    const message = await client.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
    });

    expect(scope.isDone()).toBe(true);
    expect(message.id).toBe('msg_01XFDUDYJgAACzvnptvVoYEL');
  });

  it('defaults to no SDK retries and the public API, whatever the environment says', () => {
    vi.stubEnv('ANTHROPIC_BASE_URL', 'https://elsewhere.example');

    const client = createAnthropicClient({ apiKey: 'sk', timeoutMs: 30_000 });

    expect(client.maxRetries).toBe(0);
    expect(client.baseURL).toBe('https://api.anthropic.com');
    expect(client.timeout).toBe(30_000);
    expect(createAnthropicClient({ apiKey: 'sk', maxRetries: 4 }).maxRetries).toBe(4);
  });
});

describe('anthropicFromEnv', () => {
  it('is null without an API key', () => {
    expect(anthropicFromEnv({})).toBeNull();
    expect(anthropicFromEnv({ ANTHROPIC_API_KEY: '  ' })).toBeNull();
  });

  it('reads the key, base URL and model, defaulting the model to claude-sonnet-4-6', () => {
    const custom = anthropicFromEnv({
      ANTHROPIC_API_KEY: 'sk-env',
      ANTHROPIC_BASE_URL: 'https://proxy.example/anthropic',
      GASTOWN_MODEL: 'claude-opus-4-5',
    });
    const plain = anthropicFromEnv({ ANTHROPIC_API_KEY: 'sk-env' });

    expect(custom?.model).toBe('claude-opus-4-5');
    expect(custom?.client.baseURL).toBe('https://proxy.example/anthropic');
    expect(custom?.client.apiKey).toBe('sk-env');
    expect(plain?.model).toBe('claude-sonnet-4-6');
    expect(plain?.client.baseURL).toBe('https://api.anthropic.com');
  });
});
