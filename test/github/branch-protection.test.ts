/**
 * Whether the default branch is protected on GitHub's side: checked with a branch
 * protection rule or a ruleset, said on the convoy's status comment when it is not, and
 * "unknown" (never "unprotected") when GitHub refuses to say. GitHub is strict nock.
 */
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cachedProtectionCheck, checkBranchProtection, octokitGet } from '../../src/forge/branch-protection.js';
import { InMemoryTown } from '../support/in-memory-town.js';
import { API, R, appDeps, fixture, mockContext, mockPermission, mockTokenAndConfig, newProbot, TestOctokit } from './harness.js';

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

const get = () => octokitGet(new TestOctokit({ auth: 'ghs_test' }));

function mockProtection(
  scope: nock.Scope,
  branch: { status: number; protected?: boolean },
  rules: { status: number; types?: string[] },
): nock.Scope {
  scope
    .get(`${R}/branches/main`)
    .reply(
      branch.status,
      branch.status === 200
        ? { name: 'main', protected: branch.protected, protection: { enabled: branch.protected } }
        : { message: branch.status === 403 ? 'Resource not accessible by integration' : 'Not Found' },
    );
  scope
    .get(`${R}/rules/branches/main`)
    .query({ per_page: 100 })
    .reply(
      rules.status,
      rules.status === 200
        ? (rules.types ?? []).map((type, i) => ({
            type,
            ruleset_source_type: 'Repository',
            ruleset_source: 'Codertocat/Hello-World',
            ruleset_id: 40 + i,
          }))
        : { message: 'Not Found' },
    );
  return scope;
}

describe('checkBranchProtection', () => {
  const cases: [string, { status: number; protected?: boolean }, { status: number; types?: string[] }, string, RegExp][] = [
    ['a branch protection rule', { status: 200, protected: true }, { status: 200 }, 'protected', /^a branch protection rule$/],
    [
      'a ruleset that requires a pull request',
      { status: 200, protected: false },
      { status: 200, types: ['deletion', 'pull_request'] },
      'protected',
      /^ruleset rules: pull_request$/,
    ],
    [
      'a ruleset that restricts updates and asks for checks',
      { status: 200, protected: false },
      { status: 200, types: ['update', 'required_status_checks'] },
      'protected',
      /^ruleset rules: update, required_status_checks$/,
    ],
    [
      'rules that stop no push',
      { status: 200, protected: false },
      { status: 200, types: ['deletion', 'non_fast_forward'] },
      'unprotected',
      /requires a pull request for main \(ruleset rules deletion, non_fast_forward apply, but none stops a push\)$/,
    ],
    [
      'nothing at all',
      { status: 200, protected: false },
      { status: 200, types: [] },
      'unprotected',
      /^no branch protection rule or ruleset requires a pull request for main$/,
    ],
    [
      'a token that may not read the branch (403)',
      { status: 403 },
      { status: 200, types: [] },
      'unknown',
      /^GitHub answered 403 to \/repos\/Codertocat\/Hello-World\/branches\/main$/,
    ],
    [
      'a token that may not read the rules (404)',
      { status: 200, protected: false },
      { status: 404 },
      'unknown',
      /^GitHub answered 404 to \/repos\/Codertocat\/Hello-World\/rules\/branches\/main$/,
    ],
  ];
  for (const [what, branch, rules, state, detail] of cases) {
    it(`says ${state} for ${what}`, async () => {
      const scope = mockProtection(nock(API), branch, rules);

      const p = await checkBranchProtection(get(), 'Codertocat', 'Hello-World', 'main');

      expect(p.state).toBe(state);
      expect(p.detail).toMatch(detail);
      if (state === 'unknown') expect(p.cause).toBe('refused');
      expect(scope.pendingMocks()).toEqual([]);
    });
  }

  it('says unknown (a failed read, asked again next time) when GitHub cannot be reached, and remembers the rest', async () => {
    const scope = nock(API)
      .get(`${R}/branches/main`)
      .replyWithError('socket hang up')
      .get(`${R}/rules/branches/main`)
      .query({ per_page: 100 })
      .reply(200, []);
    const check = cachedProtectionCheck();

    const failed = await check(get(), 'Codertocat', 'Hello-World', 'main');
    mockProtection(scope, { status: 200, protected: true }, { status: 200 });
    const later = await check(get(), 'Codertocat', 'Hello-World', 'main');
    const remembered = await check(get(), 'Codertocat', 'Hello-World', 'main');

    expect(failed).toMatchObject({ state: 'unknown', cause: 'failed' });
    expect(later.state).toBe('protected');
    expect(remembered).toBe(later);
    expect(scope.pendingMocks()).toEqual([]);
  });
});

describe('the status comment', () => {
  async function planWith(protection: (scope: nock.Scope) => void): Promise<string> {
    const deps = new InMemoryTown();
    const scope = nock(API);
    mockTokenAndConfig(scope, 'requireApproval: true\n');
    mockPermission(scope, 'Codertocat', 'write');
    mockContext(scope);
    protection(scope);
    let body = '';
    scope.post(`${R}/issues/1/comments`).reply(201, (_u, b: any) => {
      body = b.body;
      return { id: 555 };
    });
    const payload = fixture('issue_comment.created');
    payload.comment.body = '/gt plan';
    payload.repository.default_branch = 'main';

    await (await newProbot({ ...appDeps(deps), branchProtection: cachedProtectionCheck() })).receive({
      name: 'issue_comment',
      id: 'bp-1',
      payload,
    });

    expect(scope.pendingMocks(), body).toEqual([]);
    return body;
  }

  it('warns when the default branch is not protected', async () => {
    const body = await planWith((s) => mockProtection(s, { status: 200, protected: false }, { status: 200, types: ['deletion'] }));

    expect(body).toContain(
      '> [!WARNING]\n> `main` is not protected: no branch protection rule or ruleset requires a pull request for main (ruleset rules deletion apply, but none stops a push).',
    );
    expect(body).toContain('Add a ruleset (Settings → Rules) or branch protection rule for `main` that requires a pull request.');
  });

  it('says nothing when it is protected, and that it could not check when GitHub refuses', async () => {
    const quiet = await planWith((s) => mockProtection(s, { status: 200, protected: false }, { status: 200, types: ['pull_request'] }));
    const refused = await planWith((s) => mockProtection(s, { status: 403 }, { status: 200 }));

    expect(quiet).not.toMatch(/protected/);
    expect(refused).toContain(
      '> [!NOTE]\n> Gas Town could not check whether `main` is protected (GitHub answered 403 to /repos/Codertocat/Hello-World/branches/main).',
    );
    expect(refused).not.toContain('is not protected');
  });
});
