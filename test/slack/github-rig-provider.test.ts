import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { Probot } from 'probot';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { onBehalfOfMarker } from '../../src/town/ids.js';
import { LedgerMirrors } from '../../src/github/ledger-mirror.js';
import { createBead } from '../../src/rig/beads.js';
import { githubSourceKey } from '../../src/github/github-keys.js';
import { recordPlan } from '../../src/rig/record-plan.js';
import { createGithubRigProvider } from '../../src/github/github-rig-provider.js';
import type { RigProvider } from '../../src/rig/rig-provider.js';
import { createRigSlackServices } from '../../src/slack/rig-services.js';
import { TEST_GIT_ENV, tempDir } from '../helpers/temp-repo.js';
import { API, privateKey, silentLog, TestOctokit } from './github-fixture.js';
import { plan } from './rig-fixture.js';

const TOKEN = 'ghs_slackTestToken';
const INSTALLATION = 5151;
const R = '/repos/acme/web';

let dir: ReturnType<typeof tempDir>;
let mirrors: LedgerMirrors;
let provider: RigProvider;
let remote: string;

function remoteRefs(): string {
  return execFileSync('git', ['for-each-ref', '--format=%(refname)', 'refs/gastown/'], {
    cwd: remote,
    env: TEST_GIT_ENV,
    encoding: 'utf8',
  });
}

/** The installation lookup, its token and the (absent) config: once per repository thanks to the cache. */
function mockInstallation(): nock.Scope {
  return nock(API)
    .get(`${R}/installation`)
    .reply(200, { id: INSTALLATION, account: { login: 'acme' } })
    .post(`/app/installations/${INSTALLATION}/access_tokens`)
    .reply(201, { token: TOKEN, expires_at: '2099-01-01T00:00:00Z', permissions: { issues: 'write', contents: 'write' } })
    .get(`${R}/contents/.github%2Fgastown.yml`)
    .reply(404, { message: 'Not Found' })
    .get('/repos/acme/.github/contents/.github%2Fgastown.yml')
    .reply(404, { message: 'Not Found' });
}

beforeAll(() => {
  nock.disableNetConnect();
});

afterAll(() => {
  nock.enableNetConnect();
});

beforeEach(() => {
  dir = tempDir('gastown-slack-gh');
  // The token is part of the "GitHub" remote's path: a sync only works with the installation token.
  remote = join(dir.path, 'remotes', TOKEN, 'acme', 'web.git');
  mkdirSync(remote, { recursive: true });
  execFileSync('git', ['init', '-q', '--bare', remote], { env: TEST_GIT_ENV });
  mirrors = new LedgerMirrors({ dataDir: join(dir.path, 'data'), gitUrlTemplate: `file://${dir.path}/remotes/{token}/{owner}/{repo}.git` });
  const probot = new Probot({ appId: 1, privateKey, Octokit: TestOctokit, log: silentLog });
  provider = createGithubRigProvider({ mirrors, auth: (id) => probot.auth(id), defaultRepo: 'acme/web', log: silentLog });
});

afterEach(async () => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  await provider.close();
  await mirrors.close();
  dir.cleanup();
  expect(pending).toEqual([]);
});

describe('GitHub rig provider', () => {
  it('finds the installation, syncs the repository’s ledger mirror with its token, and serves /gt status', async () => {
    mockInstallation();
    const services = createRigSlackServices(provider);

    const bead = await provider.withRig(null, (rig) => createBead(rig.withActor('octocat'), { title: 'From Slack' }));
    const status = await services.status();

    expect(remoteRefs()).toContain(`refs/gastown/beads/${bead.id}`);
    expect(status).toMatchObject({ repo: 'acme/web', beads: { open: 1 } });
    expect(await services.repoOf({ bead: bead.id })).toBe('acme/web');
  });

  it('checks collaborator permissions on the repository', async () => {
    mockInstallation()
      .get(`${R}/collaborators/octocat/permission`)
      .reply(200, { permission: 'admin', role_name: 'admin', user: { login: 'octocat' } })
      .get(`${R}/collaborators/hubot/permission`)
      .reply(200, { permission: 'read', role_name: 'read', user: { login: 'hubot' } })
      .get(`${R}/collaborators/stranger/permission`)
      .reply(404, { message: 'Not Found' });

    const levels = [
      await provider.permissions!('octocat', 'acme/web'),
      await provider.permissions!('hubot', 'acme/web'),
      await provider.permissions!('stranger', 'acme/web'),
    ];

    expect(levels).toEqual(['admin', 'read', 'none']);
  });

  it('says so when the app is not installed on the repository', async () => {
    nock(API).get('/repos/acme/other/installation').reply(404, { message: 'Not Found' });

    await expect(provider.withRig('acme/other', async () => 'never')).rejects.toMatchObject({
      code: 'gastown_not_found',
      message: 'The Gas Town app is not installed on acme/other.',
    });
  });

  it('slings a goal by opening an issue labelled for the Mayor, then answers with the convoy the GitHub flow records', async () => {
    let issueBody: any;
    mockInstallation()
      .post(`${R}/issues`, (b) => ((issueBody = b), true))
      .reply(201, () => {
        // What the issues.labeled flow does for this issue, a moment later.
        setTimeout(() => {
          void provider.withRig('acme/web', (rig) =>
            recordPlan(rig, {
              sourceKey: githubSourceKey('acme/web', 7),
              title: 'Add dark mode',
              source: { kind: 'github', repo: 'acme/web', issue: { number: 7, url: 'https://github.com/acme/web/issues/7' } },
              plan: plan('dark'),
              planner: 'checklist',
              usage: null,
              requireApproval: true,
            }),
          );
        }, 50);
        return { number: 7, id: 70007, html_url: 'https://github.com/acme/web/issues/7' };
      });
    const services = createRigSlackServices(provider, { goalPollMs: 25, goalWaitMs: 10_000 });

    const convoy = await services.slingGoal('Add dark mode\n\nUsers want it.', 'acme/web', 'octocat');

    expect(issueBody).toMatchObject({ title: 'Add dark mode', labels: ['gastown:mayor'] });
    expect(issueBody.body).toContain('Asked from Slack by @octocat');
    expect(convoy).toMatchObject({ title: 'Add dark mode', status: 'awaiting_approval', sourceKey: 'github:acme/web#7' });
    // The GitHub flow trusts the issue as octocat's only through this marker on an app-made issue.
    expect(issueBody.body).toContain(onBehalfOfMarker('octocat'));

    // Approving from Slack asks the GitHub flow, as octocat, on the parent issue.
    let commentBody: any;
    const approveScope = nock(API)
      .post(`${R}/issues/7/comments`, (b) => ((commentBody = b), true))
      .reply(201, { id: 9, html_url: 'https://github.com/acme/web/issues/7#issuecomment-9' });
    const afterApprove = await services.approve(convoy.id, 'octocat');

    expect(approveScope.pendingMocks()).toEqual([]);
    expect(commentBody.body.split('\n')[0]).toBe('/gt approve');
    expect(commentBody.body).toContain(onBehalfOfMarker('octocat'));
    expect(afterApprove.status).toBe('awaiting_approval'); // the GitHub flow approves, materialises and dispatches
  });
});
