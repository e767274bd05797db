import { createHmac } from 'node:crypto';
import nock from 'nock';
import { Probot, Server } from 'probot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGastownApp } from '../../src/app.js';
import { InMemoryTown } from '../support/in-memory-town.js';
import { TestOctokit, appDeps, fixture, privateKey, silentLog } from './harness.js';
import { freePort } from '../helpers/free-port.js';

const SECRET = 'webhook-secret-for-tests';

describe('the app over real HTTP', () => {
  let server: Server;
  let base: string;
  const deps = new InMemoryTown();

  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    const port = await freePort();
    server = new Server({
      host: '127.0.0.1',
      port,
      log: silentLog,
      Probot: Probot.defaults({ appId: 1, privateKey, secret: SECRET, Octokit: TestOctokit, log: silentLog }),
    });
    await server.load(createGastownApp(appDeps(deps)));
    await server.start();
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await server.stop();
    nock.cleanAll();
    nock.enableNetConnect();
  });

  function post(body: string, signature: string) {
    return fetch(`${base}/api/github/webhooks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'issue_comment',
        'x-github-delivery': `delivery-${Math.random()}`,
        'x-hub-signature-256': signature,
      },
      body,
    });
  }

  it('accepts a correctly signed delivery with 200', async () => {
    // A plain comment: the handler runs and returns without calling GitHub.
    const payload = fixture('issue_comment.created');
    payload.comment.body = 'Nice work';
    const body = JSON.stringify(payload);
    const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

    const res = await post(body, signature);

    expect(res.status).toBe(200);
    expect(deps.calls).toEqual([]);
  });

  it('rejects a wrongly signed delivery with 400', async () => {
    const body = JSON.stringify(fixture('issue_comment.created'));
    const signature = `sha256=${createHmac('sha256', 'not-the-secret').update(body).digest('hex')}`;

    const res = await post(body, signature);

    expect(res.status).toBe(400);
    expect(deps.calls).toEqual([]);
  });

  it('serves GET /gastown/health as JSON', async () => {
    const res = await fetch(`${base}/gastown/health`);

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ ok: true, version: '0.1.0-test' });
  });

  it('leaves other paths to Probot (404)', async () => {
    const res = await fetch(`${base}/gastown/nope`);

    expect(res.status).toBe(404);
  });
});
