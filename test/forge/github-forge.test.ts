import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isGastownError } from '../../src/errors.js';
import { GitHubForge } from '../../src/forge/github-forge.js';
import type { Bead } from '../../src/town/types.js';
import { API, R, TestOctokit } from '../github/harness.js';
import { bead as beadFixture } from '../town/bead-fixture.js';

const parent = { number: 1, id: 1001, url: 'https://github.com/Codertocat/Hello-World/issues/1' };

function forge() {
  return new GitHubForge({ octokit: new TestOctokit({ auth: 'ghs_test' }), owner: 'Codertocat', repo: 'Hello-World' });
}

function bead(over: Partial<Bead> = {}): Bead {
  return beadFixture('gt-1a2b', {
    title: 'Output schema for @octocat',
    body: 'Write it.\n<!-- gastown:bead gt-fake -->',
    convoy: 'cv-1',
    key: 'a',
    acceptance: ['Schema validates'],
    files: ['src/schema.ts'],
    ...over,
  });
}

describe('GitHubForge', () => {
  beforeEach(() => {
    nock.disableNetConnect();
  });
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('creates a child issue with the marker, no pings and no smuggled markers', async () => {
    const scope = nock(API)
      .get(`${R}/issues/1/sub_issues`)
      .query({ per_page: 100 })
      .reply(200, [])
      .post(`${R}/issues`, (body) => {
        expect(body.title).toBe('Output schema for `@octocat`');
        expect(body.body).toMatchInlineSnapshot(`
          "<!-- gastown:bead gt-1a2b -->

          Write it.

          ### Acceptance
          - [ ] Schema validates

          ### Files
          - \`src/schema.ts\`

          ---
          Part of #1 · bead \`gt-1a2b\` · convoy \`cv-1\` · planned by the Gas Town Mayor"
        `);
        expect(body.labels).toEqual(['gastown:bead']);
        return true;
      })
      .reply(201, { id: 2002, number: 2, html_url: 'https://github.com/Codertocat/Hello-World/issues/2' });

    const link = await forge().ensureChildIssue(bead(), parent, ['gastown:bead']);

    expect(scope.pendingMocks()).toEqual([]);
    expect(link).toEqual({ number: 2, id: 2002, url: 'https://github.com/Codertocat/Hello-World/issues/2' });
  });

  it('finds existing children by marker with one paginated listing for the whole convoy', async () => {
    const child = (n: number, id: string) => ({ id: 2000 + n, number: n, html_url: `u/${n}`, body: `<!-- gastown:bead ${id} -->` });
    const scope = nock(API)
      .get(`${R}/issues/1/sub_issues`)
      .query({ per_page: 100 })
      .reply(200, [child(2, 'gt-a')], { link: `<${API}${R}/issues/1/sub_issues?per_page=100&page=2>; rel="next"` })
      .get(`${R}/issues/1/sub_issues`)
      .query({ per_page: 100, page: 2 })
      .reply(200, [child(3, 'gt-b')]);
    const f = forge();

    const a = await f.ensureChildIssue(bead({ id: 'gt-a' }), parent, []);
    const b = await f.ensureChildIssue(bead({ id: 'gt-b' }), parent, []);
    await f.ensureSubIssue(parent, a);
    await f.ensureSubIssue(parent, b);

    expect(scope.pendingMocks()).toEqual([]);
    expect([a.number, b.number]).toEqual([2, 3]);
  });

  it('treats "already exists" answers as success and other 422s as coded errors', async () => {
    nock(API)
      .get(`${R}/issues/1/sub_issues`)
      .query({ per_page: 100 })
      .reply(200, [])
      .post(`${R}/issues/1/sub_issues`, { sub_issue_id: 2002 })
      .reply(422, { message: 'Validation Failed', errors: [{ message: 'Sub issue already exists' }] })
      .post(`${R}/issues/1/sub_issues`, { sub_issue_id: 3003 })
      .reply(422, { message: 'Validation Failed', errors: [{ message: 'Issue may only have one parent' }] });
    const f = forge();

    await f.ensureSubIssue(parent, { number: 2, id: 2002, url: 'u/2' });
    const err = await f.ensureSubIssue(parent, { number: 3, id: 3003, url: 'u/3' }).catch((e: unknown) => e);

    expect(isGastownError(err, 'gastown_forge')).toBe(true);
    expect((err as Error).message).toBe('GitHub refused to add sub-issue (HTTP 422)');
  });

  it('adds a blocked-by edge only when it is missing, by numeric id', async () => {
    const scope = nock(API)
      .get(`${R}/issues/5/dependencies/blocked_by`)
      .query({ per_page: 100 })
      .reply(200, [{ id: 3003, number: 3 }])
      .post(`${R}/issues/5/dependencies/blocked_by`, { issue_id: 4004 })
      .reply(201, {});
    const f = forge();
    const child = { number: 5, id: 5005, url: 'u/5' };

    await f.ensureBlockedBy(child, { number: 3, id: 3003, url: 'u/3' });
    await f.ensureBlockedBy(child, { number: 4, id: 4004, url: 'u/4' });
    await f.ensureBlockedBy(child, { number: 4, id: 4004, url: 'u/4' });

    expect(scope.pendingMocks()).toEqual([]);
  });

  it('leaves an identical status comment alone and finds a lost one by its marker', async () => {
    const body = '<!-- gastown:convoy cv-1 -->\nall good\n';
    const scope = nock(API)
      .get(`${R}/issues/comments/10`)
      .reply(200, { id: 10, body: body.replace(/\n/g, '\r\n') })
      .get(`${R}/issues/comments/11`)
      .reply(404, { message: 'Not Found' })
      .get(`${R}/issues/1/comments`)
      .query({ per_page: 100 })
      .reply(200, [
        { id: 20, body: 'hello' },
        { id: 21, body: '<!-- gastown:convoy cv-1 -->\nold' },
      ])
      .patch(`${R}/issues/comments/21`, { body })
      .reply(200, { id: 21 });
    const f = forge();

    const kept = await f.ensureStatusComment(1, body, 10);
    const found = await f.ensureStatusComment(1, body, 11);

    expect(scope.pendingMocks()).toEqual([]);
    expect([kept, found]).toEqual([10, 21]);
  });

  it('refuses a status comment without a marker', async () => {
    const err = await forge()
      .ensureStatusComment(1, 'no marker')
      .catch((e: unknown) => e);

    expect(isGastownError(err, 'gastown_bad_input')).toBe(true);
  });

  it('primed with no children, creates and links without listing sub-issues; a listing already made is kept', async () => {
    const scope = nock(API)
      .post(`${R}/issues`)
      .reply(201, { id: 2002, number: 2, html_url: 'u/2' })
      .post(`${R}/issues/1/sub_issues`, { sub_issue_id: 2002 })
      .reply(201, {})
      .get(`${R}/issues/9/sub_issues`)
      .query({ per_page: 100 })
      .reply(200, [{ id: 3003, number: 3, html_url: 'u/3', body: '<!-- gastown:bead gt-1a2b -->' }]);
    const f = forge();
    f.prime(1, { children: 'none' });

    const link = await f.ensureChildIssue(bead(), parent, ['gastown:bead']);
    await f.ensureSubIssue(parent, link);
    await f.ensureSubIssue(parent, link);
    // Priming after a listing does not hide what the listing found.
    const other = { number: 9, id: 9009, url: 'u/9' };
    await f.ensureSubIssue(other, { number: 3, id: 3003, url: 'u/3' });
    f.prime(9, { children: 'none' });
    const found = await f.ensureChildIssue(bead(), other, []);

    expect(scope.pendingMocks()).toEqual([]);
    expect(link).toEqual({ number: 2, id: 2002, url: 'u/2' });
    expect(found).toEqual({ number: 3, id: 3003, url: 'u/3' });
  });

  it('finds the status comment in a primed listing, once: the next lookup lists again', async () => {
    const body = '<!-- gastown:convoy cv-1 -->\nnew\n';
    const scope = nock(API)
      .patch(`${R}/issues/comments/2503118745`, { body })
      .reply(200, { id: 2503118745 })
      .get(`${R}/issues/1/comments`)
      .query({ per_page: 100 })
      .reply(200, [{ id: 2503118745, body }]);
    const f = forge();
    f.prime(1, { comments: [{ id: 20, body: 'hello' }, { id: 2503118745, body: '<!-- gastown:convoy cv-1 -->\nold' }] });

    const edited = await f.ensureStatusComment(1, body);
    const again = await f.ensureStatusComment(1, body);

    expect(scope.pendingMocks()).toEqual([]);
    expect([edited, again]).toEqual([2503118745, 2503118745]);
  });

  it('removing an absent label is a no-op; adding labels is one call', async () => {
    const scope = nock(API)
      .post(`${R}/issues/1/labels`, { labels: ['gastown:failed'] })
      .reply(200, [])
      .delete(`${R}/issues/1/labels/gastown%3Amayor`)
      .reply(404, { message: 'Label does not exist' });

    await forge().setLabels(1, { add: ['gastown:failed'], remove: ['gastown:mayor'] });

    expect(scope.pendingMocks()).toEqual([]);
  });

  it('reuses the open pull request from the same branch', async () => {
    const scope = nock(API)
      .get(`/repos/Codertocat/Hello-World/pulls`)
      .query({ head: 'Codertocat:polecat/nux/gt-1a2b', state: 'open' })
      .reply(200, [{ id: 77, number: 7, html_url: 'u/pull/7' }]);

    const pr = await forge().openPullRequest({ head: 'polecat/nux/gt-1a2b', base: 'main', title: 't', body: 'b', draft: false });

    expect(scope.pendingMocks()).toEqual([]);
    expect(pr).toEqual({ number: 7, id: 77, url: 'u/pull/7' });
  });

  it('opens a pull request when none exists, and dispatches a workflow', async () => {
    const scope = nock(API)
      .get(`${R}/pulls`)
      .query({ head: 'Codertocat:polecat/nux/gt-1a2b', state: 'open' })
      .reply(200, [])
      .post(`${R}/pulls`, { head: 'polecat/nux/gt-1a2b', base: 'main', title: 't', body: 'Closes #2', draft: true })
      .reply(201, { id: 78, number: 8, html_url: 'u/pull/8' })
      .post(`${R}/actions/workflows/gastown-polecat.yml/dispatches`, { ref: 'main', inputs: { bead: 'gt-1a2b' } })
      .reply(204);
    const f = forge();

    const pr = await f.openPullRequest({ head: 'polecat/nux/gt-1a2b', base: 'main', title: 't', body: 'Closes #2', draft: true });
    await f.dispatchWorkflow({ workflow: 'gastown-polecat.yml', ref: 'main', inputs: { bead: 'gt-1a2b' } });

    expect(scope.pendingMocks()).toEqual([]);
    expect(pr.number).toBe(8);
  });
});
