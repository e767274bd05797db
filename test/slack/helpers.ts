import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { vi } from 'vitest';
import type { SlackServices } from '../../src/slack/services.js';
import type { StructuredLogger } from '../../src/structured-logger.js';
import { slackSignature } from '../../src/slack/verify-slack-signature.js';
import type { Bead, Convoy, FeedEvent, MailMessage } from '../../src/town/types.js';
import { bead as beadFixture } from '../town/bead-fixture.js';

const FIXTURES = new URL('../fixtures/slack/', import.meta.url);

export function fixtureText(name: string): string {
  return readFileSync(new URL(name, FIXTURES), 'utf8');
}

export function fixtureJson<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(fixtureText(name)) as T;
}

export const SIGNING_SECRET = 'test-signing-secret-8f14e45fceea167a';
export const SLACK_API = 'https://slack.test';
export const RESPONSE_HOST = 'https://hooks.slack.com';

/** A slash-command form body from the real fixture, with the given text and user. */
export function slashCommandBody(text: string, user = 'U2147483697'): string {
  const form = new URLSearchParams(fixtureText('slash-command.form.txt'));
  form.set('text', text);
  form.set('user_id', user);
  return form.toString();
}

/** A block_actions payload from the real fixture, with one button action. */
export function blockActionBody(actionId: string, value: string, user = 'UA8RXUSPL'): string {
  const payload = fixtureJson<Record<string, any>>('block-actions.json');
  payload.user.id = user;
  payload.actions[0].action_id = actionId;
  payload.actions[0].value = value;
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export function signedHeaders(body: string, opts: { secret?: string; ts?: number; contentType?: string } = {}) {
  const ts = opts.ts ?? Math.floor(Date.now() / 1000);
  return {
    'content-type': opts.contentType ?? 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(ts),
    'x-slack-signature': slackSignature(opts.secret ?? SIGNING_SECRET, ts, body),
  };
}

export interface TestServer {
  url: string;
  close(): Promise<void>;
}

/** A plain node server that tries the handler first, like Probot's handler chain, then 404s. */
export async function startServer(handler: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>): Promise<TestServer> {
  const server: Server = createServer(async (req, res) => {
    if (await handler(req, res)) return;
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

export function post(url: string, body: string, headers: Record<string, string>) {
  return fetch(`${url}/slack/events`, { method: 'POST', body, headers });
}

/**
 * Captures what respond() posts to a response_url (any path on hooks.slack.com), resolving
 * once `count` bodies arrived.
 */
export function captureResponses(count = 1): { bodies: Promise<Record<string, any>[]>; scope: nock.Scope } {
  const got: Record<string, any>[] = [];
  let done!: (b: Record<string, any>[]) => void;
  const bodies = new Promise<Record<string, any>[]>((r) => (done = r));
  const scope = nock(RESPONSE_HOST)
    .post(/.*/)
    .times(count)
    .reply(200, (_uri, body) => {
      got.push(body as Record<string, any>);
      if (got.length === count) done(got);
      return 'ok';
    });
  return { bodies, scope };
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string;
}

export function recordingLogger(): StructuredLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (obj: Record<string, unknown>, msg: string) => {
    lines.push({ level, obj, msg });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Every service method a vi.fn that fails loudly unless the test stubs it. */
export function fakeServices(overrides: Partial<SlackServices> = {}) {
  const unstubbed = (name: string) =>
    vi.fn(async () => {
      throw new Error(`services.${name} was not expected in this test`);
    });
  const names: (keyof SlackServices)[] = [
    'status',
    'convoy',
    'ready',
    'feed',
    'trail',
    'sling',
    'slingGoal',
    'approve',
    'stop',
    'inbox',
    'sendMail',
    'nudge',
    'resling',
    'repoOf',
  ];
  const services = Object.fromEntries(names.map((n) => [n, unstubbed(n)])) as unknown as {
    [K in keyof SlackServices]: ReturnType<typeof vi.fn> & SlackServices[K];
  };
  for (const [k, fn] of Object.entries(overrides)) {
    (services as Record<string, unknown>)[k] = vi.fn(fn as (...a: unknown[]) => unknown);
  }
  return services;
}

const T = '2026-11-21T10:00:00.000Z';

export function bead(over: Partial<Bead> = {}): Bead {
  return beadFixture('gt-a1b2', { title: 'Add login endpoint', convoy: 'cv-9z8y', createdAt: T, updatedAt: T, ...over });
}

export function convoy(over: Partial<Convoy> = {}): Convoy {
  return {
    id: 'cv-9z8y',
    title: 'Auth rework',
    beads: ['gt-a1b2', 'gt-c3d4'],
    status: 'awaiting_approval',
    approved: false,
    approvedBy: null,
    source: { kind: 'github', repo: 'acme/web', issue: { number: 12, url: 'https://github.com/acme/web/issues/12' } },
    planner: 'model',
    usage: null,
    createdAt: T,
    updatedAt: T,
    landedAt: null,
    ...over,
  };
}

export function feedEvent(over: Partial<FeedEvent> = {}): FeedEvent {
  return {
    id: 'ev-1',
    type: 'bead_slung',
    at: T,
    actor: 'mayor',
    bead: 'gt-a1b2',
    convoy: 'cv-9z8y',
    message: 'slung gt-a1b2 to nux',
    url: null,
    ...over,
  };
}

export function mail(over: Partial<MailMessage> = {}): MailMessage {
  return {
    id: 'm-1',
    kind: 'mail',
    from: 'nux',
    to: 'octocat',
    subject: 'POLECAT_DONE',
    body: 'PR #7 is open',
    type: 'POLECAT_DONE',
    bead: 'gt-a1b2',
    createdAt: T,
    ...over,
  };
}

export async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('waitFor timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
