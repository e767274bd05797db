import nock from 'nock';
import { Probot, Server } from 'probot';
import { afterEach, describe, expect, it } from 'vitest';
import { createGastownApp } from '../../src/app.js';
import { createAppDeps } from '../../src/github/app-deps.js';
import { privateKey, silentLog, TestOctokit } from '../github/harness.js';
import { RESPONSE_HOST, signedHeaders, SIGNING_SECRET, SLACK_API, slashCommandBody } from '../slack/helpers.js';
import { tempDir } from '../helpers/temp-repo.js';
import { freePort } from '../helpers/free-port.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  nock.cleanAll();
  nock.enableNetConnect();
});

/** The real app, with services built by createAppDeps from an environment, on a real port. */
async function start(env: Record<string, string>): Promise<string> {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  const data = tempDir('app-data');
  cleanups.push(data.cleanup);
  const deps = createAppDeps({ GASTOWN_DATA_DIR: data.path, ...env });
  cleanups.push(async () => deps.close?.());
  const port = await freePort();
  const server = new Server({
    host: '127.0.0.1',
    port,
    log: silentLog,
    Probot: Probot.defaults({ appId: 1, privateKey, secret: 'webhook-secret', Octokit: TestOctokit, log: silentLog }),
  });
  await server.load(createGastownApp(deps));
  await server.start();
  cleanups.push(() => server.stop());
  return `http://127.0.0.1:${port}`;
}

describe('one server for GitHub and Slack', () => {
  const slackEnv = {
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: `${SLACK_API}/api/`,
    SLACK_BOT_ID: 'B0TEST',
    SLACK_BOT_USER_ID: 'U0TEST',
  };

  it('serves /slack/events beside the webhooks when Slack is configured', async () => {
    const base = await start(slackEnv);
    const replied = new Promise<string>((resolve) => {
      nock(RESPONSE_HOST)
        .post(/.*/)
        .reply(200, (_uri, body) => {
          resolve(JSON.stringify(body));
          return { ok: true };
        });
    });
    const body = slashCommandBody('help');

    const ok = await fetch(`${base}/slack/events`, { method: 'POST', headers: signedHeaders(body), body });
    const forged = await fetch(`${base}/slack/events`, { method: 'POST', headers: signedHeaders(body, { secret: 'wrong' }), body });
    const health = await fetch(`${base}/gastown/health`);

    expect(ok.status).toBe(200);
    expect(await replied).toMatch(/\/gt sling/);
    expect(forged.status).toBe(401);
    expect(health.status).toBe(200);
  });

  it('has no Slack route when Slack is not configured', async () => {
    const base = await start({});
    const body = slashCommandBody('help');

    const res = await fetch(`${base}/slack/events`, { method: 'POST', headers: signedHeaders(body), body });

    expect(res.status).toBe(404);
    expect((await fetch(`${base}/gastown/health`)).status).toBe(200);
  });
});
