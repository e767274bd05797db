/**
 * The token exchange over real HTTP: the app as `npm start` serves it (Probot's Server,
 * createAppDeps' ledger mirrors over a file:// "GitHub" repository), an OIDC issuer on a
 * loopback port that serves its JWKS, tokens signed with a key pair made here, and GitHub's
 * REST API under strict nock. A job's side (`requestAppToken`, what `gt app-token` runs) asks
 * the loopback issuer for its token as a job asks ACTIONS_ID_TOKEN_REQUEST_URL.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import nock from 'nock';
import { pino } from 'pino';
import { Probot, Server } from 'probot';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGastownApp } from '../../src/app.js';
import { requestAppToken, revokeAppToken } from '../../src/forge/app-token-client.js';
import { acquireRemoteLease } from '../../src/ledger/acquire-remote-lease.js';
import { townService } from '../../src/rig/town-service.js';
import type { Bead, Plan } from '../../src/town/types.js';
import { freePort } from '../helpers/free-port.js';
import { API, OWNER, R, REPO, privateKey, TestOctokit } from './harness.js';
import { newTown, type Town } from './ledger-e2e.helpers.js';

const REPO_ID = 1296269;
const INSTALLATION = 4242;
const AUDIENCE = 'gastown';
const WORKFLOW_REF = `${OWNER}/${REPO}/.github/workflows/gastown-polecat.yml@refs/heads/main`;
const SCOPED_TOKEN = 'ghs_scopedTokenFromTheExchange0001';

const PLAN: Plan = {
  summary: 'Two steps',
  beads: [
    { key: '1', title: 'First step', description: 'Do the first thing.', acceptance: [], files: [], blockedBy: [] },
    { key: '2', title: 'Second step', description: 'Then the second.', acceptance: [], files: [], blockedBy: ['1'] },
  ],
};

/** The loopback OIDC issuer: its JWKS, and the token service a job asks (ACTIONS_ID_TOKEN_REQUEST_URL). */
interface Issuer {
  url: string;
  key: CryptoKey;
  jwk: JWK;
  /** What the token service signs for the next request (claims over the valid defaults). */
  nextClaims: Record<string, unknown>;
  requests: string[];
  server: HttpServer;
}

let issuer: Issuer;
let otherKey: CryptoKey;
let town: Town;
let dispatched: Bead;
let waiting: Bead;
let base: string;
let logLines: string[];
let stopServer: () => Promise<void>;

async function startIssuer(): Promise<Issuer> {
  const { privateKey: key, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
  const self: Issuer = { url: '', key, jwk, nextClaims: {}, requests: [], server: undefined as never };
  self.server = createServer((req, res) => {
    self.requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? '/', self.url);
    if (url.pathname === '/.well-known/jwks') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [self.jwk] }));
    } else if (url.pathname === '/token' && req.headers.authorization === 'bearer job-request-token') {
      void sign(self.key, { aud: url.searchParams.get('audience'), ...self.nextClaims }).then((value) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value })),
      );
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => self.server.listen(0, '127.0.0.1', resolve));
  self.url = `http://127.0.0.1:${(self.server.address() as AddressInfo).port}`;
  return self;
}

/** An Actions OIDC token as GitHub makes one (its claims), signed with `key`. */
async function sign(
  key: CryptoKey,
  claims: Record<string, unknown> = {},
  opts: { kid?: string; expiresIn?: string | number } = {},
): Promise<string> {
  const body = {
    iss: issuer.url,
    aud: AUDIENCE,
    sub: `repo:${OWNER}/${REPO}:ref:refs/heads/main`,
    repository: `${OWNER}/${REPO}`,
    repository_id: String(REPO_ID),
    repository_owner: OWNER,
    ref: 'refs/heads/main',
    event_name: 'workflow_dispatch',
    workflow_ref: WORKFLOW_REF,
    job_workflow_ref: WORKFLOW_REF,
    run_id: '9000000001',
    run_attempt: '1',
    runner_environment: 'github-hosted',
    ...claims,
  };
  const { iss, aud, sub, ...rest } = body;
  const jwt = new SignJWT(rest)
    .setProtectedHeader({ alg: 'RS256', kid: opts.kid ?? 'test-key-1', typ: 'JWT' })
    .setIssuedAt()
    .setJti(`jti-${Math.random()}`);
  if (iss !== undefined) jwt.setIssuer(String(iss));
  if (aud !== undefined) jwt.setAudience(String(aud));
  if (sub !== undefined) jwt.setSubject(String(sub));
  jwt.setExpirationTime(opts.expiresIn ?? '5m');
  return jwt.sign(key);
}

function run(overrides: Record<string, unknown> = {}) {
  return {
    id: 9000000001,
    name: 'gastown-polecat',
    display_title: `gastown-polecat ${dispatched.id}`,
    path: '.github/workflows/gastown-polecat.yml',
    event: 'workflow_dispatch',
    status: 'in_progress',
    conclusion: null,
    head_branch: 'main',
    created_at: new Date().toISOString(),
    actor: { login: 'gastown[bot]', type: 'Bot' },
    triggering_actor: { login: 'gastown[bot]', type: 'Bot' },
    ...overrides,
  };
}

/** Nock for the calls a token that verifies leads to, up to `until` (strict: each once). */
function github(until: 'repository' | 'run' | 'ledger' | 'mint', opts: { run?: Record<string, unknown> } = {}) {
  const scope = nock(API);
  const minted: unknown[] = [];
  scope.get(`${R}/installation`).reply(200, { id: INSTALLATION, app_id: 1 });
  scope
    .post(`/app/installations/${INSTALLATION}/access_tokens`, (b: any) => !b?.repository_ids)
    .reply(201, { token: 'ghs_installationForReads', expires_at: '2099-01-01T00:00:00Z', permissions: { issues: 'write' } });
  scope.get(R).reply(200, { id: REPO_ID, name: REPO, full_name: `${OWNER}/${REPO}`, default_branch: 'main' });
  if (until === 'repository') return { scope, minted };
  scope.get(`${R}/contents/.github%2Fgastown.yml`).reply(404, { message: 'Not Found' });
  scope.get(`/repos/${OWNER}/.github/contents/.github%2Fgastown.yml`).reply(404, { message: 'Not Found' });
  if (until === 'run') return { scope, minted };
  scope.get(`${R}/actions/runs/9000000001`).reply(200, run(opts.run));
  scope.get('/app').reply(200, { id: 1, slug: 'gastown', name: 'Gas Town' });
  if (until === 'ledger') return { scope, minted };
  scope
    .post(`/app/installations/${INSTALLATION}/access_tokens`, (b: any) => Array.isArray(b?.repository_ids))
    .reply(201, (_uri, body) => {
      minted.push(body);
      return {
        token: SCOPED_TOKEN,
        expires_at: '2099-01-01T01:00:00Z',
        permissions: { contents: 'write', pull_requests: 'write', metadata: 'read' },
        repository_selection: 'selected',
      };
    });
  return { scope, minted };
}

async function exchange(jwt: string | null): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/gastown/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: jwt === null ? '{}' : JSON.stringify({ token: jwt }),
  });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  issuer = await startIssuer();
  otherKey = (await generateKeyPair('RS256')).privateKey;
  // The repository's ledger as the app leaves it after dispatching the first bead's run.
  town = newTown({
    GASTOWN_OIDC_ISSUER: issuer.url,
    GASTOWN_OIDC_JWKS_URL: `${issuer.url}/.well-known/jwks`,
    GASTOWN_OIDC_AUDIENCE: AUDIENCE,
  });
  const scope = { owner: OWNER, repo: REPO, prefix: 'refs/gastown/', actor: 'gastown[bot]', token: async () => 'unused' };
  [dispatched, waiting] = await town.deps.mirrors!.withRepoLedger(scope, async (session) => {
    const service = townService(session.rig);
    const recorded = await service.recordPlan({
      sourceKey: `github:${OWNER}/${REPO}#1`,
      title: 'Two steps',
      source: {
        kind: 'github',
        repo: `${OWNER}/${REPO}`,
        issue: { number: 1, id: 1001, url: `https://github.com/${OWNER}/${REPO}/issues/1` },
      },
      plan: PLAN,
      planner: 'checklist',
      usage: null,
      requireApproval: false,
    });
    await service.markMaterialised(recorded.convoy.id);
    const pending = await service.pendingDispatch(4);
    expect(pending).toHaveLength(1);
    await service.markDispatched(pending[0]!);
    return [(await service.bead(pending[0]!.bead.id))!, recorded.beads.find((b) => b.id !== pending[0]!.bead.id)!];
  });
}, 60_000);

afterAll(async () => {
  await town?.cleanup();
  await new Promise<void>((resolve) => issuer?.server.close(() => resolve()));
});

beforeEach(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  logLines = [];
  const sink = new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) });
  const log = pino({ level: 'debug' }, sink);
  const port = await freePort();
  const server = new Server({
    host: '127.0.0.1',
    port,
    log: log as never,
    Probot: Probot.defaults({ appId: 1, privateKey, secret: 'webhook-secret', Octokit: TestOctokit, log: log as never }),
  });
  await server.load(createGastownApp(town.deps));
  await server.start();
  base = `http://127.0.0.1:${port}`;
  stopServer = () => server.stop();
});

afterEach(async () => {
  await stopServer();
  nock.cleanAll();
  nock.enableNetConnect();
});

/** Every log line of the request, which must hold no token. */
function expectNoSecretLogged(...secrets: string[]): void {
  const log = logLines.join('');
  for (const secret of [SCOPED_TOKEN, 'ghs_installationForReads', ...secrets]) expect(log).not.toContain(secret);
  // Nor a fragment of a JWT's signature or payload.
  for (const secret of secrets) for (const part of secret.split('.')) expect(log).not.toContain(part);
}

describe('POST /gastown/token', () => {
  it('exchanges a valid token of a dispatched run for a token scoped to the repository, contents and pull requests only', async () => {
    const { scope, minted } = github('mint');
    const jwt = await sign(issuer.key);

    const res = await exchange(jwt);

    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      token: SCOPED_TOKEN,
      expires_at: '2099-01-01T01:00:00Z',
      repository: `${OWNER}/${REPO}`,
      bead: dispatched.id,
    });
    expect(minted).toEqual([{ repository_ids: [REPO_ID], permissions: { contents: 'write', pull_requests: 'write' } }]);
    expect(scope.pendingMocks()).toEqual([]);
    expect(logLines.join('')).toContain('scoped installation token issued');
    expectNoSecretLogged(jwt);
  });

  it('answers while another replica holds the repository lease: checking the ledger is a read, which needs none', async () => {
    const lease = { gitDir: town.remote, url: async () => `file://${town.remote}`, ref: 'refs/gastown-leases/app' };
    const held = await acquireRemoteLease({ ...lease, holder: 'another replica', ttlMs: 60_000 });
    try {
      const { scope } = github('mint');
      const res = await exchange(await sign(issuer.key));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(scope.pendingMocks()).toEqual([]);
    } finally {
      await held.release();
    }
  }, 20_000);

  it("shares one ledger sync among exchanges that arrived together (a wave's jobs): each needs the ledger as it was when it came", async () => {
    const scope = nock(API).persist();
    scope.get(`${R}/installation`).reply(200, { id: INSTALLATION, app_id: 1 });
    scope
      .post(`/app/installations/${INSTALLATION}/access_tokens`, (b: any) => !b?.repository_ids)
      .reply(201, { token: 'ghs_installationForReads', expires_at: '2099-01-01T00:00:00Z', permissions: { issues: 'write' } });
    scope.get(R).reply(200, { id: REPO_ID, name: REPO, full_name: `${OWNER}/${REPO}`, default_branch: 'main' });
    scope.get(`${R}/contents/.github%2Fgastown.yml`).reply(404, { message: 'Not Found' });
    scope.get(`/repos/${OWNER}/.github/contents/.github%2Fgastown.yml`).reply(404, { message: 'Not Found' });
    scope.get('/app').reply(200, { id: 1, slug: 'gastown', name: 'Gas Town' });
    scope
      .post(`/app/installations/${INSTALLATION}/access_tokens`, (b: any) => Array.isArray(b?.repository_ids))
      .reply(201, { token: SCOPED_TOKEN, expires_at: '2099-01-01T01:00:00Z', permissions: { contents: 'write', pull_requests: 'write' } });
    // GitHub answers the second job's run later: it reaches the ledger after the first one's sync began.
    scope.get(`${R}/actions/runs/9000000001`).delay(300).reply(200, run());
    scope
      .get(`${R}/actions/runs/9000000002`)
      .delay(900)
      .reply(200, run({ id: 9000000002, display_title: `gastown-polecat ${waiting.id}` }));
    const syncs = () => logLines.join('').split('Synced the ledger').length - 1;
    const before = syncs();

    const tokens = [await sign(issuer.key), await sign(issuer.key, { run_id: '9000000002' })];
    const [first, second] = await Promise.all(tokens.map((t) => exchange(t)));

    expect(first.status, JSON.stringify(first.body)).toBe(201);
    // The second job's bead waits for no run: refused by the ledger's check, which it read.
    expect(second.status).toBe(403);
    expect(second.body.reason).toMatch(new RegExp(`bead ${waiting.id} is open`));
    expect(syncs() - before).toBe(1);
    nock.cleanAll();
  }, 20_000);

  it('is what `gt app-token` gets: the job asks its OIDC token for the audience, then the app', async () => {
    const { scope } = github('mint');
    const env = {
      ACTIONS_ID_TOKEN_REQUEST_URL: `${issuer.url}/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'job-request-token',
    };

    const got = await requestAppToken({ env, appUrl: base, audience: AUDIENCE });

    expect(got).toEqual({ token: SCOPED_TOKEN, expiresAt: '2099-01-01T01:00:00Z' });
    expect(issuer.requests).toContain('GET /token?api-version=2.0&audience=gastown');
    expect(scope.pendingMocks()).toEqual([]);
  });

  it('revokes the scoped token once the work is done', async () => {
    const scope = nock(API, { reqheaders: { authorization: `Bearer ${SCOPED_TOKEN}` } })
      .delete('/installation/token')
      .reply(204);

    const status = await revokeAppToken({ env: { GITHUB_API_URL: API }, token: SCOPED_TOKEN });

    expect(status).toBe(204);
    expect(scope.pendingMocks()).toEqual([]);
  });

  it('tells the job why when the app refuses, and when there is no OIDC token to send', async () => {
    github('repository');
    const env = { ACTIONS_ID_TOKEN_REQUEST_URL: `${issuer.url}/token`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'job-request-token' };
    issuer.nextClaims = { repository_id: '1' };

    const refused = await requestAppToken({ env, appUrl: base, audience: AUDIENCE }).catch((e: Error) => e);
    const noPermission = await requestAppToken({ env: {}, appUrl: base, audience: AUDIENCE }).catch((e: Error) => e);
    const inClear = await requestAppToken({ env, appUrl: 'http://gastown.example.com', audience: AUDIENCE }).catch((e: Error) => e);
    issuer.nextClaims = {};

    expect((refused as Error).message).toBe(
      `the Gas Town app refused the token exchange (HTTP 403): ${OWNER}/${REPO} is not the repository the token was issued for (id 1)`,
    );
    expect((noPermission as Error).message).toMatch(/the workflow needs `permissions: id-token: write`/);
    expect((inClear as Error).message).toMatch(/--app-url must be https/);
  });

  const refusals: [string, () => Promise<string>, Parameters<typeof github>[0] | null, Record<string, unknown>, number, RegExp][] = [
    [
      'an expired token',
      () => sign(issuer.key, {}, { expiresIn: Math.floor(Date.now() / 1000) - 120 }),
      null,
      {},
      401,
      /^the token has expired$/,
    ],
    ['a token signed by another key', () => sign(otherKey), null, {}, 401, /signature does not verify with the issuer's keys/],
    [
      "a token signed by another key under the issuer's key id",
      () => sign(otherKey, {}, { kid: 'test-key-1' }),
      null,
      {},
      401,
      /signature does not verify/,
    ],
    [
      'a token for another audience',
      () => sign(issuer.key, { aud: 'https://vault.example.com' }),
      null,
      {},
      401,
      /^the token is for another audience$/,
    ],
    [
      'a token from another issuer',
      () => sign(issuer.key, { iss: 'https://token.actions.githubusercontent.com' }),
      null,
      {},
      401,
      /^the token is from another issuer$/,
    ],
    ['a token without the run', () => sign(issuer.key, { run_id: undefined }), null, {}, 401, /no "run_id" claim/],
    [
      'a repository the app is not installed on',
      () =>
        sign(issuer.key, {
          repository: 'mallory/fork',
          repository_id: '666',
          job_workflow_ref: 'mallory/fork/.github/workflows/gastown-polecat.yml@refs/heads/main',
        }),
      null,
      {},
      403,
      /not installed on mallory\/fork/,
    ],
    [
      'another repository under the same name (repository_id differs)',
      () => sign(issuer.key, { repository_id: '777' }),
      'repository',
      {},
      403,
      /not the repository the token was issued for \(id 777\)/,
    ],
    [
      'another workflow of the repository',
      () => sign(issuer.key, { job_workflow_ref: `${OWNER}/${REPO}/.github/workflows/release.yml@refs/heads/main` }),
      'run',
      {},
      403,
      /workflow .*release\.yml@refs\/heads\/main, not the polecat workflow on the default branch/,
    ],
    [
      'the polecat workflow from another branch',
      () => sign(issuer.key, { job_workflow_ref: `${OWNER}/${REPO}/.github/workflows/gastown-polecat.yml@refs/heads/evil` }),
      'run',
      {},
      403,
      /gastown-polecat\.yml@refs\/heads\/evil, not the polecat workflow on the default branch/,
    ],
    [
      'a run a person dispatched',
      () => sign(issuer.key),
      'ledger',
      { actor: { login: 'mallory', type: 'User' } },
      403,
      /was not dispatched by the app for a bead/,
    ],
    ['a run that is over', () => sign(issuer.key), 'ledger', { status: 'completed', conclusion: 'success' }, 403, /run 9000000001 is over/],
    [
      'a run for a bead the app has not dispatched',
      () => sign(issuer.key),
      'ledger',
      { display_title: 'gastown-polecat WAITING' },
      403,
      /bead gt-[0-9a-z]+ is open, not waiting for a polecat run/,
    ],
    [
      "a run created before the bead's sling",
      () => sign(issuer.key),
      'ledger',
      { created_at: '2020-01-01T00:00:00Z' },
      403,
      /was created before bead gt-[0-9a-z]+'s current sling/,
    ],
  ];

  for (const [what, token, until, runOverrides, status, reason] of refusals) {
    it(`refuses ${what} (${status})`, async () => {
      const overrides = { ...runOverrides };
      if (overrides.display_title === 'gastown-polecat WAITING') overrides.display_title = `gastown-polecat ${waiting.id}`;
      const { scope, minted } = until === null ? { scope: nock(API), minted: [] } : github(until, { run: overrides });
      if (what.startsWith('a repository the app is not installed on'))
        scope.get('/repos/mallory/fork/installation').reply(404, { message: 'Not Found' });
      const jwt = await token();

      const res = await exchange(jwt);

      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.body.error).toBe(status === 401 ? 'invalid_token' : 'forbidden');
      expect(res.body.reason).toMatch(reason);
      expect(res.body).not.toHaveProperty('token');
      expect(minted).toEqual([]);
      expect(scope.pendingMocks()).toEqual([]);
      expect(logLines.join('')).toContain('Token exchange refused');
      expectNoSecretLogged(jwt);
    });
  }

  it('refuses a request without a token, another method, and a body over the limit', async () => {
    const none = await exchange(null);
    const get = await fetch(`${base}/gastown/token`);
    const big = await fetch(`${base}/gastown/token`, { method: 'POST', body: 'x'.repeat(100_000) }).then(
      (r) => r.status,
      () => 413,
    );

    expect(none.status).toBe(401);
    expect(none.body.reason).toMatch(/POST the GitHub Actions OIDC token as JSON/);
    expect(get.status).toBe(405);
    expect(big).toBe(413);
  });
});
