import { readFileSync } from 'node:fs';

import nock from 'nock';

import { createAnthropicClient } from '../../src/model/anthropic.js';

export const FAKE_API = 'https://api.anthropic.test';
export const FAKE_KEY = 'sk-ant-test-key';

/** A saved Messages API body from test/fixtures/anthropic/. */
export function anthropicFixture(name: string): Record<string, any> {
  return JSON.parse(readFileSync(new URL(`../fixtures/anthropic/${name}`, import.meta.url), 'utf8'));
}

export function testClient() {
  return createAnthropicClient({ apiKey: FAKE_KEY, baseURL: FAKE_API, maxRetries: 0 });
}

/**
 * Mocks POST /v1/messages with the given replies, in order, recording each request body.
 * Each reply is a fixture name (status 200) or [status, fixture name, extra headers?].
 */
export function mockMessages(replies: Array<string | [number, string] | [number, string, Record<string, string>]>): {
  scope: nock.Scope;
  bodies: any[];
} {
  const bodies: any[] = [];
  const scope = nock(FAKE_API).matchHeader('authorization', `Bearer ${FAKE_KEY}`);
  for (const reply of replies) {
    const [status, name, headers] = typeof reply === 'string' ? [200, reply, {}] : reply;
    scope.post('/v1/messages').reply((_uri, body) => {
      bodies.push(typeof body === 'string' ? JSON.parse(body) : body);
      return [
        status,
        anthropicFixture(name),
        { 'content-type': 'application/json', 'request-id': `req_test_${bodies.length}`, ...headers },
      ];
    });
  }
  return { scope, bodies };
}
