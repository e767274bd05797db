/**
 * `gt doctor --github`: GitHub's side of a rig, with GitHub's API under nock (the CLI uses
 * fetch): the default branch's protection (FAIL when nothing stops a push, a warning when
 * GitHub will not say) and the polecat workflow in the working tree.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { repositoryFromRemote } from '../../src/forge/github-doctor.js';
import { repoWithRemote, tempDir } from '../helpers/temp-repo.js';
import { gtx } from '../runner/run-gt-lazy.js';

const API = 'https://api.github.com';
const ENV = { GITHUB_TOKEN: 'ghs_doctor', GITHUB_API_URL: API, GITHUB_REPOSITORY: '' };

let dir: { path: string; cleanup(): void };
let clone: string;
beforeEach(async () => {
  nock.disableNetConnect();
  dir = tempDir('doctor-github');
  ({ clone } = repoWithRemote(dir.path));
  expect((await gtx(clone, ['init'])).code).toBe(0);
});
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
  dir.cleanup();
});

function github(branch: { status: number; protected?: boolean }, rules: string[] | number): nock.Scope {
  const scope = nock(API, { reqheaders: { authorization: 'Bearer ghs_doctor' } });
  scope
    .get('/repos/octo/calc/branches/main')
    .reply(
      branch.status,
      branch.status === 200 ? { name: 'main', protected: branch.protected } : { message: 'Resource not accessible by integration' },
    );
  scope
    .get('/repos/octo/calc/rules/branches/main')
    .query({ per_page: 100 })
    .reply(typeof rules === 'number' ? rules : 200, typeof rules === 'number' ? { message: 'Not Found' } : rules.map((type) => ({ type })));
  return scope;
}

const line = (out: string, name: string) => out.split('\n').find((l) => l.includes(` ${name}: `));

describe('gt doctor --github', () => {
  it('fails when nothing on GitHub stops a push to the default branch, and says the workflow is missing', async () => {
    const scope = github({ status: 200, protected: false }, ['deletion']);

    const r = await gtx(clone, ['doctor', '--github', '--repo', 'octo/calc'], ENV);

    expect(r.code).toBe(1);
    expect(line(r.stdout, 'github repository')).toBe('ok    github repository: octo/calc (--repo)');
    expect(line(r.stdout, 'default branch protection')).toBe(
      'FAIL  default branch protection: main is not protected: no branch protection rule or ruleset requires a pull request for main (ruleset rules deletion apply, but none stops a push) (recommended: a ruleset or branch protection rule that requires a pull request)',
    );
    expect(line(r.stdout, 'polecat workflow')).toMatch(
      /^warn  polecat workflow: no \.github\/workflows\/gastown-polecat\.yml: run gt install-workflow/,
    );
    expect(scope.pendingMocks()).toEqual([]);
  });

  it('passes with a ruleset that requires a pull request and a pinned workflow', async () => {
    const scope = github({ status: 200, protected: false }, ['pull_request']);
    await gtx(clone, ['install-workflow']);

    const r = await gtx(clone, ['doctor', '--github'], { ...ENV, GITHUB_REPOSITORY: 'octo/calc' });

    expect(r.code, r.stdout).toBe(0);
    expect(line(r.stdout, 'default branch protection')).toBe(
      'ok    default branch protection: main: protected by ruleset rules: pull_request',
    );
    expect(line(r.stdout, 'polecat workflow')).toMatch(/^ok    polecat workflow: uses gastown-dev\/gastown@v\d/);
    expect(scope.pendingMocks()).toEqual([]);
  });

  it('reports unknown, not unprotected, when GitHub will not say; an old npx workflow fails', async () => {
    const scope = github({ status: 403 }, 404);
    mkdirSync(join(clone, '.github', 'workflows'), { recursive: true });
    writeFileSync(
      join(clone, '.github', 'workflows', 'gastown-polecat.yml'),
      'jobs:\n  p:\n    steps:\n      - run: npx gt runner --once\n',
    );

    const r = await gtx(clone, ['doctor', '--github', '--repo', 'octo/calc', '--json'], ENV);

    const checks = JSON.parse(r.stdout) as { name: string; ok: boolean; warn?: boolean; detail: string }[];
    expect(checks.find((c) => c.name === 'default branch protection')).toEqual({
      name: 'default branch protection',
      ok: true,
      warn: true,
      detail: 'main: unknown, GitHub answered 403 to /repos/octo/calc/branches/main (the token may not read it)',
    });
    expect(checks.find((c) => c.name === 'polecat workflow')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/runs npx gt, .* run gt install-workflow --force$/),
    });
    expect(r.code).toBe(1);
    expect(scope.pendingMocks()).toEqual([]);
  });

  it('asks for a token, and for the repository when the remote is not on GitHub', async () => {
    const noToken = await gtx(clone, ['doctor', '--github', '--repo', 'octo/calc'], {
      GITHUB_TOKEN: '',
      GH_TOKEN: '',
      GITHUB_REPOSITORY: '',
    });
    const noRepo = await gtx(clone, ['doctor', '--github'], ENV);

    expect(line(noToken.stdout, 'default branch protection')).toBe(
      'FAIL  default branch protection: set GITHUB_TOKEN or GH_TOKEN (a token that can read the repository) to check it',
    );
    expect(line(noRepo.stdout, 'github repository')).toBe(
      'FAIL  github repository: cannot tell which GitHub repository this rig is: pass --repo owner/repo (or set GITHUB_REPOSITORY)',
    );
  });

  it('reads the repository from a GitHub remote URL', () => {
    expect(repositoryFromRemote('https://github.com/octo/calc.git')).toEqual({
      owner: 'octo',
      repo: 'calc',
      apiUrl: 'https://api.github.com',
    });
    expect(repositoryFromRemote('git@github.com:octo/calc.git')).toEqual({ owner: 'octo', repo: 'calc', apiUrl: 'https://api.github.com' });
    expect(repositoryFromRemote('https://x-access-token:abc@ghe.example.com/octo/calc')).toEqual({
      owner: 'octo',
      repo: 'calc',
      apiUrl: 'https://ghe.example.com/api/v3',
    });
    expect(repositoryFromRemote('file:///tmp/remote.git')).toBeNull();
    expect(repositoryFromRemote('/srv/git/calc.git')).toBeNull();
  });
});
