import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import nock from 'nock';
import { pino } from 'pino';
import { Probot, Server } from 'probot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGastownApp } from '../../src/app.js';
import { WEBHOOK_BODY_LIMIT } from '../../src/github/webhook-guard.js';
import { startServer, type StartedServer } from '../../src/start-server.js';
import { refused, sendBigBody } from '../helpers/big-body.js';
import { InMemoryTown } from '../support/in-memory-town.js';
import { TestOctokit, appDeps, fixture, privateKey } from './harness.js';
import { freePort } from '../helpers/free-port.js';

const SECRET = 'webhook-secret-for-limits';
const MB = 1024 * 1024;

/** A pino logger at trace level whose every line lands in `lines`: what the process would print. */
function capturedLog() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { lines, log: pino({ level: 'trace' }, stream) };
}

function signed(body: string, secret = SECRET) {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function webhookHeaders(body: string, secret = SECRET): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-github-event': 'issue_comment',
    'x-github-delivery': `delivery-${Math.random()}`,
    'x-hub-signature-256': signed(body, secret),
  };
}

/** Every header Probot asks for, with a signature that cannot match: what the attack sent. */
const forged = { 'x-github-event': 'push', 'x-github-delivery': 'big-1', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` };

/** A comment payload carrying a marker that must never reach the log when unsigned. */
function canaryPayload(canary: string): string {
  const payload = fixture('issue_comment.created');
  payload.comment.body = `Nice work ${canary}`;
  return JSON.stringify(payload);
}

describe('webhook bodies on the server bin/start.js runs', () => {
  let started: StartedServer;
  let base: string;
  const captured = capturedLog();
  const deps = new InMemoryTown();

  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    const port = await freePort();
    started = await startServer(createGastownApp(appDeps(deps)), {
      env: { APP_ID: '1', PRIVATE_KEY: privateKey, WEBHOOK_SECRET: SECRET, HOST: '127.0.0.1', PORT: String(port) },
      log: captured.log,
      Octokit: TestOctokit,
    });
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    started.http.closeAllConnections();
    await started.stop();
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('still accepts a correctly signed delivery (the verified body is handed on to Probot)', async () => {
    const body = canaryPayload('signed-ok');

    const res = await fetch(`${base}/api/github/webhooks`, { method: 'POST', headers: webhookHeaders(body), body });

    expect(res.status).toBe(200);
    expect(deps.calls).toEqual([]);
  });

  it('refuses a 30 MB body with a content-length with 413 at once, without buffering it', async () => {
    // Warm up the paths the measurement goes through.
    await sendBigBody(`${base}/api/github/webhooks`, { bytes: 26 * MB, headers: forged });
    const before = process.memoryUsage().rss;

    const r = await sendBigBody(`${base}/api/github/webhooks`, { bytes: 30 * MB, headers: forged });

    const grown = process.memoryUsage().rss - before;
    expect(refused(r), `status ${r.status}`).toBe(true);
    expect(JSON.parse(r.body)).toEqual({ error: `Request body too large: the limit is ${WEBHOOK_BODY_LIMIT} bytes` });
    expect(r.ms).toBeLessThan(2_000);
    // Buffering it would cost 30 MB and more (Probot's chunks, then their concatenation).
    expect(grown).toBeLessThan(8 * MB);
    expect(r.sent).toBeLessThan(30 * MB);
  });

  it('cuts off a chunked body without content-length at the limit with 413', async () => {
    const r = await sendBigBody(`${base}/api/github/webhooks/`, { bytes: 60 * MB, chunked: true, headers: forged });

    expect(refused(r), `status ${r.status}`).toBe(true);
    // The server stopped reading: the client could not hand it everything.
    expect(r.sent).toBeLessThan(60 * MB);
  });

  it('keeps a bad-signature payload out of the log and answers 400', async () => {
    const canary = `CANARY-${Math.random().toString(36).slice(2)}`;
    const body = canaryPayload(canary);
    const from = captured.lines.length;

    const res = await fetch(`${base}/api/github/webhooks`, { method: 'POST', headers: webhookHeaders(body, 'not-the-secret'), body });
    const unsigned = await fetch(`${base}/api/github/webhooks`, {
      method: 'POST',
      headers: { ...webhookHeaders(body), 'x-hub-signature-256': '' },
      body,
    });

    expect(res.status).toBe(400);
    expect(unsigned.status).toBe(400);
    const logged = captured.lines.slice(from).join('');
    expect(logged).toContain('signature does not match');
    expect(logged).not.toContain(canary);
    expect(captured.lines.join('')).not.toContain(canary);
    expect(deps.calls).toEqual([]);
  });
});

describe("Probot's own server, for comparison", () => {
  it('logs the payload of a bad-signature delivery: why the guard verifies first', async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    const captured = capturedLog();
    const port = await freePort();
    const server = new Server({
      host: '127.0.0.1',
      port,
      log: captured.log,
      Probot: Probot.defaults({ appId: 1, privateKey, secret: SECRET, Octokit: TestOctokit, log: captured.log }),
    });
    await server.load(createGastownApp(appDeps(new InMemoryTown())));
    await server.start();
    try {
      const canary = `CANARY-${Math.random().toString(36).slice(2)}`;
      const body = canaryPayload(canary);

      const res = await fetch(`http://127.0.0.1:${port}/api/github/webhooks`, {
        method: 'POST',
        headers: webhookHeaders(body, 'wrong'),
        body,
      });

      expect(res.status).toBe(400);
      expect(captured.lines.join('')).toContain(canary);
    } finally {
      await server.stop();
      nock.enableNetConnect();
    }
  });
});
