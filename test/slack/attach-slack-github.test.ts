import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { Probot, Server } from 'probot';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LedgerMirrors } from '../../src/github/ledger-mirror.js';
import { createBead } from '../../src/rig/beads.js';
import type { SlackHandle } from '../../src/slack/attach-slack.js';
import { attachSlackForGithub } from '../../src/attach-slack-github.js';
import { TEST_GIT_ENV, tempDir } from '../helpers/temp-repo.js';
import { API, privateKey, silentLog, TestOctokit } from './github-fixture.js';
import { captureResponses, post, SIGNING_SECRET, SLACK_API, signedHeaders, slashCommandBody } from './helpers.js';
import { freePort } from '../helpers/free-port.js';

const TOKEN = 'ghs_attachTestToken';
const INSTALLATION = 6161;
const R = '/repos/acme/web';
const env = {
  SLACK_BOT_TOKEN: 'xoxb-test-token',
  SLACK_SIGNING_SECRET: SIGNING_SECRET,
  SLACK_API_URL: `${SLACK_API}/api/`,
  SLACK_BOT_ID: 'B0BOT',
  SLACK_BOT_USER_ID: 'U0BOT',
  SLACK_USER_MAP: 'UWRITER1:octocat,UREADER1:hubot',
  SLACK_DEFAULT_REPO: 'acme/web',
};

let dir: ReturnType<typeof tempDir>;
let mirrors: LedgerMirrors;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});

afterAll(() => {
  nock.enableNetConnect();
});

beforeEach(() => {
  dir = tempDir('gastown-slack-attach-gh');
  const remote = join(dir.path, 'remotes', TOKEN, 'acme', 'web.git');
  mkdirSync(remote, { recursive: true });
  execFileSync('git', ['init', '-q', '--bare', remote], { env: TEST_GIT_ENV });
  mirrors = new LedgerMirrors({ dataDir: join(dir.path, 'data'), gitUrlTemplate: `file://${dir.path}/remotes/{token}/{owner}/{repo}.git` });
});

afterEach(async () => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  await mirrors.close();
  dir.cleanup();
  expect(pending).toEqual([]);
});

describe('attachSlackForGithub: the one call in the Probot app', () => {
  it('does nothing without Slack settings', async () => {
    const probot = new Probot({ appId: 1, privateKey, Octokit: TestOctokit, log: silentLog });

    const handle = await attachSlackForGithub({ env: {}, app: probot, addHandler: () => expect.fail('no route'), mirrors });

    expect(handle).toBeNull();
  });

  it('serves /gt on the Probot server over the repository’s ledger mirror, with GitHub permissions', async () => {
    const seed = await mirrors.withRepoLedger(
      { owner: 'acme', repo: 'web', prefix: 'refs/gastown/', actor: 'octocat', token: async () => TOKEN },
      ({ rig }) => createBead(rig, { title: 'Seeded on GitHub' }),
    );
    nock(API)
      .get(`${R}/installation`)
      .reply(200, { id: INSTALLATION })
      .post(`/app/installations/${INSTALLATION}/access_tokens`)
      .reply(201, { token: TOKEN, expires_at: '2099-01-01T00:00:00Z' })
      .get(`${R}/contents/.github%2Fgastown.yml`)
      .reply(404, { message: 'Not Found' })
      .get('/repos/acme/.github/contents/.github%2Fgastown.yml')
      .reply(404, { message: 'Not Found' })
      .get(`${R}/collaborators/hubot/permission`)
      .reply(200, { permission: 'read', role_name: 'read', user: { login: 'hubot' } });
    const port = await freePort();
    const server = new Server({
      Probot: Probot.defaults({ appId: 1, privateKey, secret: 'webhook-secret', log: silentLog, Octokit: TestOctokit }),
      host: '127.0.0.1',
      port,
      log: silentLog,
    });
    let handle: SlackHandle | null = null;
    await server.load(async (app, { addHandler }) => {
      handle = await attachSlackForGithub({ env, app, addHandler, mirrors });
    });
    await server.start();
    const url = `http://127.0.0.1:${port}`;

    try {
      const status = captureResponses(1);
      const statusBody = slashCommandBody('status', 'UWRITER1');
      expect((await post(url, statusBody, signedHeaders(statusBody))).status).toBe(200);
      const statusReply = (await status.bodies)[0]!;

      const refused = captureResponses(1);
      const slingBody = slashCommandBody(`sling ${seed.id}`, 'UREADER1');
      expect((await post(url, slingBody, signedHeaders(slingBody))).status).toBe(200);
      const refusedReply = (await refused.bodies)[0]!;

      expect(statusReply.blocks[0].text.text).toBe('Gas Town status for acme/web');
      expect(JSON.stringify(statusReply.blocks)).toContain('open 1');
      expect(refusedReply.text).toContain(`Only people with write access to acme/web can sling ${seed.id}; hubot has only read access.`);
    } finally {
      await (handle as SlackHandle | null)?.stop();
      await server.stop();
    }
  });
});
