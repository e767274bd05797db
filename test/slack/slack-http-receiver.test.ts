import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSlackApp, type SlackAppHandle } from '../../src/slack/create-slack-app.js';
import { registerSlackListeners } from '../../src/slack/register-listeners.js';
import { usageText } from '../../src/slack/parse-command.js';
import {
  captureResponses,
  fakeServices,
  fixtureText,
  post,
  recordingLogger,
  SIGNING_SECRET,
  SLACK_API,
  signedHeaders,
  slashCommandBody,
  startServer,
  type TestServer,
} from './helpers.js';
import { SLACK_BODY_LIMIT } from '../../src/slack/slack-http-receiver.js';
import { refused, sendBigBody } from '../helpers/big-body.js';

let slack: SlackAppHandle;
let server: TestServer;
const logs = recordingLogger();

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});

afterAll(() => {
  nock.enableNetConnect();
});

beforeEach(async () => {
  logs.lines.length = 0;
  slack = createSlackApp({
    botToken: 'xoxb-test-token',
    signingSecret: SIGNING_SECRET,
    botId: 'B0BOT',
    botUserId: 'U0BOT',
    apiUrl: `${SLACK_API}/api/`,
    logger: logs,
    clientOptions: { retryConfig: { retries: 0 } },
  });
  registerSlackListeners(slack.app, {
    services: fakeServices(),
    identity: { loginFor: async () => null, slackUserFor: async () => null },
    permissions: async () => 'none',
    logger: logs,
  });
  await slack.start();
  server = await startServer(slack.handler!);
});

afterEach(async () => {
  await slack.stop();
  await server.close();
  nock.cleanAll();
});

describe('Slack over the shared HTTP server', () => {
  it('acks a signed /gt help at once and answers with the usage through response_url', async () => {
    const { bodies, scope } = captureResponses(1);
    const body = slashCommandBody('help');

    const res = await post(server.url, body, signedHeaders(body));

    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    const [reply] = await bodies;
    expect(reply).toEqual({ response_type: 'ephemeral', text: usageText() });
    expect(scope.isDone()).toBe(true);
  });

  it('parses a form body whose content type carries a charset', async () => {
    const { bodies } = captureResponses(1);
    const body = slashCommandBody('');

    const res = await post(server.url, body, signedHeaders(body, { contentType: 'application/x-www-form-urlencoded; charset=utf-8' }));

    expect(res.status).toBe(200);
    expect((await bodies)[0]!.text).toBe(usageText());
  });

  it('rejects a bad signature with 401 and runs nothing', async () => {
    const { scope } = captureResponses(1);
    const body = slashCommandBody('help');

    const res = await post(server.url, body, signedHeaders(body, { secret: 'not-the-secret' }));

    expect(res.status).toBe(401);
    await new Promise((r) => setTimeout(r, 100));
    expect(scope.isDone()).toBe(false);
    expect(logs.lines.some((l) => l.msg.includes('bad_signature'))).toBe(true);
    expect(JSON.stringify(logs.lines)).not.toContain(SIGNING_SECRET);
  });

  it('keeps the body of a request with a bad signature out of the log', async () => {
    const canary = `CANARY-${Math.random().toString(36).slice(2)}`;
    const body = slashCommandBody(`sling ${canary}`);

    const res = await post(server.url, body, signedHeaders(body, { secret: 'not-the-secret' }));

    expect(res.status).toBe(401);
    expect(JSON.stringify(logs.lines)).not.toContain(canary);
  });

  it('refuses a 30 MB body with a content-length with 413 at once, without buffering it', async () => {
    await sendBigBody(`${server.url}/slack/events`, {
      bytes: 2 * SLACK_BODY_LIMIT,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const before = process.memoryUsage().rss;

    const r = await sendBigBody(`${server.url}/slack/events`, {
      bytes: 30 * 1024 * 1024,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });

    expect(refused(r), `status ${r.status}`).toBe(true);
    expect(r.ms).toBeLessThan(2_000);
    expect(process.memoryUsage().rss - before).toBeLessThan(8 * 1024 * 1024);
    expect(r.sent).toBeLessThan(30 * 1024 * 1024);
    expect(logs.lines.some((l) => l.msg === 'Slack request body too large')).toBe(true);
  });

  it('cuts off a chunked body without content-length at 1 MB with 413', async () => {
    const r = await sendBigBody(`${server.url}/slack/events`, {
      bytes: 40 * 1024 * 1024,
      chunked: true,
      headers: { 'content-type': 'application/json' },
    });

    expect(refused(r), `status ${r.status}`).toBe(true);
    expect(r.sent).toBeLessThan(40 * 1024 * 1024);
  });

  it('rejects a body altered after signing', async () => {
    const body = slashCommandBody('help');
    const headers = signedHeaders(body);

    const res = await post(server.url, body.replace('text=help', 'text=stop+cv-1'), headers);

    expect(res.status).toBe(401);
  });

  it('rejects a stale timestamp with 401, even when correctly signed', async () => {
    const body = slashCommandBody('help');

    const res = await post(server.url, body, signedHeaders(body, { ts: Math.floor(Date.now() / 1000) - 6 * 60 }));

    expect(res.status).toBe(401);
    expect(logs.lines.some((l) => l.msg.includes('stale'))).toBe(true);
  });

  it('rejects a timestamp from the future and missing headers with 401', async () => {
    const body = slashCommandBody('help');

    const future = await post(server.url, body, signedHeaders(body, { ts: Math.floor(Date.now() / 1000) + 6 * 60 }));
    const bare = await post(server.url, body, { 'content-type': 'application/x-www-form-urlencoded' });

    expect(future.status).toBe(401);
    expect(bare.status).toBe(401);
  });

  it('answers the url_verification challenge', async () => {
    const body = fixtureText('url-verification.json');

    const res = await post(server.url, body, signedHeaders(body, { contentType: 'application/json' }));

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
  });

  it('answers the unsigned ssl_check without processing anything', async () => {
    const res = await post(server.url, 'ssl_check=1&token=x', { 'content-type': 'application/x-www-form-urlencoded' });

    expect(res.status).toBe(200);
  });

  it('rejects malformed JSON with 400', async () => {
    const body = '{"type":';

    const res = await post(server.url, body, signedHeaders(body, { contentType: 'application/json' }));

    expect(res.status).toBe(400);
  });

  it('leaves other paths to the host server and refuses GET on its own path', async () => {
    const other = await fetch(`${server.url}/api/github/webhooks`, { method: 'POST', body: '{}' });
    const get = await fetch(`${server.url}/slack/events`);

    expect(other.status).toBe(404);
    expect(await other.text()).toBe('not found');
    expect(get.status).toBe(405);
  });

  it('acks 200 concurrent signed commands', async () => {
    const n = 200;
    const { bodies } = captureResponses(n);
    const requests = Array.from({ length: n }, (_, i) => {
      const body = slashCommandBody('help', `U${String(i).padStart(8, '0')}`);
      return post(server.url, body, signedHeaders(body));
    });

    const responses = await Promise.all(requests);

    // 200 means ack() ran: a request not acked within 3 s gets Bolt's no-ack answer (404).
    expect(responses.map((r) => r.status)).toEqual(Array(n).fill(200));
    expect(await Promise.all(responses.map((r) => r.text()))).toEqual(Array(n).fill(''));
    expect(await bodies).toHaveLength(n);
  });
});

describe('createSlackApp modes', () => {
  it('has no HTTP handler in Socket Mode', () => {
    const socket = createSlackApp({ botToken: 'xoxb-t', appToken: 'xapp-t', botId: 'B1', botUserId: 'U1' });

    expect(socket.handler).toBeNull();
  });

  it('refuses HTTP mode without a signing secret', () => {
    expect(() => createSlackApp({ botToken: 'xoxb-t', botId: 'B1', botUserId: 'U1' })).toThrow(/SLACK_SIGNING_SECRET/);
  });
});
