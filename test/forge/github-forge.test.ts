import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isGastownError } from '../../src/errors.js';
import { GitHubForge } from '../../src/forge/github-forge.js';
import type { Bead } from '../../src/town/types.js';
import { GraphqlIssues } from '../github/graphql-issues.js';
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

  it('creates a labelled sub-issue per bead in one createIssue batch, with the marker, no pings and no smuggled markers', async () => {
    const gh = new GraphqlIssues();
    const scope = nock(API).get(`${R}/issues/1/sub_issues`).query({ per_page: 100 }).reply(200, []);
    gh.mockTargets(scope, { missing: ['gastown:ready'] });
    gh.mockCreateLabels(scope);
    gh.mockCreateIssues(scope);
    const recorded: string[] = [];

    const links = await forge().ensureChildIssues(
      parent,
      [
        { bead: bead(), labels: ['gastown:bead', 'gastown:ready'] },
        { bead: bead({ id: 'gt-3c4d', title: 'Second' }), labels: ['gastown:bead'] },
      ],
      async (id, link) => void recorded.push(`${id} #${link.number}`),
    );

    expect(scope.pendingMocks()).toEqual([]);
    expect(gh.operations).toEqual(['targets', 'createLabel', 'createIssue']);
    expect(gh.labelsCreated).toEqual(['gastown:ready']);
    expect(links).toEqual([
      { number: 2, id: 1002, url: 'https://github.com/Codertocat/Hello-World/issues/2' },
      { number: 3, id: 1003, url: 'https://github.com/Codertocat/Hello-World/issues/3' },
    ]);
    expect(recorded).toEqual(['gt-1a2b #2', 'gt-3c4d #3']);
    expect(gh.created[0]).toMatchObject({ title: 'Output schema for `@octocat`', labels: ['gastown:bead', 'gastown:ready'], parent: 1 });
    expect(gh.created[0]!.body).toMatchInlineSnapshot(`
      "<!-- gastown:bead gt-1a2b -->

      Write it.

      ### Acceptance
      - [ ] Schema validates

      ### Files
      - \`src/schema.ts\`

      ---
      Part of #1 · bead \`gt-1a2b\` · convoy \`cv-1\` · planned by the Gas Town Mayor"
    `);
  });

  it('finds existing children by marker with one paginated listing for the whole convoy', async () => {
    const child = (n: number, id: string) => ({
      id: 2000 + n,
      node_id: `I_${n}`,
      number: n,
      html_url: `u/${n}`,
      body: `<!-- gastown:bead ${id} -->`,
    });
    const scope = nock(API)
      .get(`${R}/issues/1/sub_issues`)
      .query({ per_page: 100 })
      .reply(200, [child(2, 'gt-a')], { link: `<${API}${R}/issues/1/sub_issues?per_page=100&page=2>; rel="next"` })
      .get(`${R}/issues/1/sub_issues`)
      .query({ per_page: 100, page: 2 })
      .reply(200, [child(3, 'gt-b')]);
    const recorded: string[] = [];

    const links = await forge().ensureChildIssues(
      parent,
      [
        { bead: bead({ id: 'gt-a' }), labels: [] },
        { bead: bead({ id: 'gt-b' }), labels: [] },
      ],
      async (id, link) => void recorded.push(`${id} #${link.number}`),
    );

    expect(scope.pendingMocks()).toEqual([]);
    expect(links.map((l) => l.number)).toEqual([2, 3]);
    expect(recorded).toEqual(['gt-a #2', 'gt-b #3']);
  });

  it('links an issue the ledger knows but GitHub does not list under the parent; a duplicate link is no error, another refusal is', async () => {
    const gh = new GraphqlIssues();
    const scope = nock(API).get(`${R}/issues/1/sub_issues`).query({ per_page: 100 }).reply(200, []);
    gh.mockTargets(scope);
    gh.mockIssueIds(scope);
    scope
      .post('/graphql', (b: any) => /^mutation gastownSubIssues\b/.test(b.query) && b.variables.s0.subIssueId === 'I_2')
      .reply(200, {
        data: { s0: null },
        errors: [{ type: 'UNPROCESSABLE', path: ['s0'], message: 'Issue may not contain duplicate sub-issues' }],
      });
    const f = forge();

    await f.ensureChildIssues(parent, [{ bead: bead({ issue: { number: 2, id: 1002, url: 'u/2' } }), labels: [] }], async () => undefined);
    expect(scope.pendingMocks()).toEqual([]);

    scope
      .post('/graphql', (b: any) => /^mutation gastownSubIssues\b/.test(b.query))
      .reply(200, {
        data: { s0: null },
        errors: [{ type: 'UNPROCESSABLE', path: ['s0'], message: 'Sub issue may only have one parent' }],
      });
    const other = { number: 9, id: 1009, url: 'u/9' };
    nock(API).get(`${R}/issues/9/sub_issues`).query({ per_page: 100 }).reply(200, []);
    gh.mockTargets(scope, { parent: 9 });
    gh.mockIssueIds(scope);
    const err = await f
      .ensureChildIssues(other, [{ bead: bead({ issue: { number: 3, id: 1003, url: 'u/3' } }), labels: [] }], async () => undefined)
      .catch((e: unknown) => e);

    expect(isGastownError(err, 'gastown_forge')).toBe(true);
    expect((err as Error).message).toBe('GitHub refused to add sub-issues (UNPROCESSABLE: Sub issue may only have one parent)');
  });

  it('adds only the missing blocked-by edges, in one batch; "already exists" is success', async () => {
    const gh = new GraphqlIssues();
    const scope = nock(API)
      .get(`${R}/issues/5/dependencies/blocked_by`)
      .query({ per_page: 100 })
      .reply(200, [{ id: 1003, number: 3 }]);
    gh.mockIssueIds(scope);
    gh.mockBlockedBy(scope);
    const f = forge();
    const child = { number: 5, id: 1005, url: 'u/5' };
    const edge = (n: number) => ({ child, blocker: { number: n, id: 1000 + n, url: `u/${n}` } });

    await f.ensureBlockedBy([edge(3), edge(4), edge(6), edge(4)]);
    await f.ensureBlockedBy([edge(4)]);

    expect(scope.pendingMocks()).toEqual([]);
    expect(gh.edgeList()).toEqual(['5<-4', '5<-6']);

    gh.mockIssueIds(scope);
    nock(API)
      .post('/graphql', (b: any) => /^mutation gastownBlockedBy\b/.test(b.query))
      .reply(200, {
        data: { b0: null },
        errors: [{ type: 'UNPROCESSABLE', path: ['b0'], message: 'Dependency already exists' }],
      });
    await f.ensureBlockedBy([edge(7)]);
    gh.mockIssueIds(scope);
    nock(API)
      .post('/graphql', (b: any) => /^mutation gastownBlockedBy\b/.test(b.query))
      .reply(200, {
        data: { b0: null },
        errors: [{ type: 'NOT_FOUND', path: ['b0'], message: "Could not resolve to a node with the global id of 'I_8'" }],
      });
    const err = await f.ensureBlockedBy([edge(8)]).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      "GitHub refused to add blocked-by dependencies (NOT_FOUND: Could not resolve to a node with the global id of 'I_8')",
    );
  });

  it('never sends a creation twice blind: after a lost answer it lists the sub-issues again and creates only what is missing', async () => {
    const gh = new GraphqlIssues();
    const scope = nock(API);
    gh.mockTargets(scope);
    // The first request is carried out, but its answer is lost (GitHub answers 502).
    scope
      .post('/graphql', (b: any) => /^mutation gastownCreateIssues\b/.test(b.query))
      .reply(502, (_u, body: any) => {
        const first = body.variables.i0;
        gh.created.push({ number: gh.next, id: 1000 + gh.next, title: first.title, body: first.body, labels: [], parent: 1 });
        gh.next++;
        return { message: 'Server Error' };
      });
    scope
      .get(`${R}/issues/1/sub_issues`)
      .query({ per_page: 100 })
      .reply(200, () =>
        gh.created.map((c) => ({ id: c.id, node_id: `I_${c.number}`, number: c.number, html_url: `u/${c.number}`, body: c.body })),
      );
    gh.mockCreateIssues(scope, { check: (titles) => expect(titles).toEqual(['Second']) });
    const f = forge();
    f.prime(1, { children: 'none' });
    const recorded: string[] = [];

    const links = await f.ensureChildIssues(
      parent,
      [
        { bead: bead(), labels: [] },
        { bead: bead({ id: 'gt-3c4d', title: 'Second' }), labels: [] },
      ],
      async (id, link) => void recorded.push(`${id} #${link.number}`),
    );

    expect(scope.pendingMocks()).toEqual([]);
    expect(links.map((l) => l.number)).toEqual([2, 3]);
    expect(recorded).toEqual(['gt-1a2b #2', 'gt-3c4d #3']);
    expect(gh.created.map((c) => c.title)).toEqual(['Output schema for `@octocat`', 'Second']);
  });

  it('a creation GitHub refuses in part: what it made is recorded, then the refusal is a coded error', async () => {
    const gh = new GraphqlIssues();
    const scope = nock(API);
    gh.mockTargets(scope);
    gh.mockCreateIssues(scope, { refuse: ['Second'] });
    const f = forge();
    f.prime(1, { children: 'none' });
    const recorded: string[] = [];

    const err = await f
      .ensureChildIssues(
        parent,
        [
          { bead: bead(), labels: [] },
          { bead: bead({ id: 'gt-3c4d', title: 'Second' }), labels: [] },
        ],
        async (id, link) => void recorded.push(`${id} #${link.number}`),
      )
      .catch((e: unknown) => e);

    expect(scope.pendingMocks()).toEqual([]);
    expect(recorded).toEqual(['gt-1a2b #2']);
    expect(isGastownError(err, 'gastown_forge')).toBe(true);
    expect((err as Error).message).toMatch(/^GitHub refused to create child issues \(INTERNAL: Something went wrong/);
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

  it('remembering the body it last wrote, edits a changed status at once; reads an unchanged one; a deleted one is found or made again', async () => {
    const bodies = new Map<number, string>();
    const comments = { get: (id: number) => bodies.get(id), set: (id: number, body: string) => void bodies.set(id, body) };
    const v1 = '<!-- gastown:convoy cv-1 -->\nv1\n';
    const v2 = '<!-- gastown:convoy cv-1 -->\nv2\n';
    const scope = nock(API)
      .get(`${R}/issues/comments/10`)
      .reply(200, { id: 10, body: v1 })
      .patch(`${R}/issues/comments/10`, { body: v2 })
      .reply(200, { id: 10 })
      .get(`${R}/issues/comments/10`)
      .reply(200, { id: 10, body: v2 })
      .patch(`${R}/issues/comments/10`, { body: v1 })
      .reply(404, { message: 'Not Found' })
      .get(`${R}/issues/comments/10`)
      .reply(404, { message: 'Not Found' })
      .get(`${R}/issues/1/comments`)
      .query({ per_page: 100 })
      .reply(200, [])
      .post(`${R}/issues/1/comments`, { body: v1 })
      .reply(201, { id: 11 });
    const f = new GitHubForge({ octokit: new TestOctokit({ auth: 'ghs_test' }), owner: 'Codertocat', repo: 'Hello-World', comments });

    expect(await f.ensureStatusComment(1, v1, 10)).toBe(10); // read: unchanged
    expect(await f.ensureStatusComment(1, v2, 10)).toBe(10); // remembered v1: edited without a read
    expect(await f.ensureStatusComment(1, v2, 10)).toBe(10); // remembered v2, unchanged: read to be sure
    expect(await f.ensureStatusComment(1, v1, 10)).toBe(11); // deleted meanwhile: made again

    expect(scope.pendingMocks()).toEqual([]);
    expect(bodies.get(11)).toBe(v1);
  });

  it('refuses a status comment without a marker', async () => {
    const err = await forge()
      .ensureStatusComment(1, 'no marker')
      .catch((e: unknown) => e);

    expect(isGastownError(err, 'gastown_bad_input')).toBe(true);
  });

  it('primed with no children, creates without listing sub-issues; a listing already made is kept', async () => {
    const gh = new GraphqlIssues();
    const scope = nock(API)
      .get(`${R}/issues/9/sub_issues`)
      .query({ per_page: 100 })
      .reply(200, [{ id: 3003, node_id: 'I_3', number: 3, html_url: 'u/3', body: '<!-- gastown:bead gt-1a2b -->' }]);
    gh.mockTargets(scope);
    gh.mockCreateIssues(scope);
    const f = forge();
    f.prime(1, { children: 'none' });

    const [link] = await f.ensureChildIssues(parent, [{ bead: bead(), labels: ['gastown:bead'] }], async () => undefined);
    await f.ensureChildIssues(parent, [{ bead: bead({ issue: link }), labels: ['gastown:bead'] }], async () => undefined);
    // Priming after a listing does not hide what the listing found.
    const other = { number: 9, id: 9009, url: 'u/9' };
    await f.ensureChildIssues(
      other,
      [{ bead: bead({ id: 'gt-x', issue: { number: 3, id: 3003, url: 'u/3' } }), labels: [] }],
      async () => undefined,
    );
    f.prime(9, { children: 'none' });
    const [found] = await f.ensureChildIssues(other, [{ bead: bead(), labels: [] }], async () => undefined);

    expect(scope.pendingMocks()).toEqual([]);
    expect(link).toEqual({ number: 2, id: 1002, url: 'https://github.com/Codertocat/Hello-World/issues/2' });
    expect(found).toEqual({ number: 3, id: 3003, url: 'u/3' });
    expect(gh.created).toHaveLength(1);
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
    f.prime(1, {
      comments: [
        { id: 20, body: 'hello' },
        { id: 2503118745, body: '<!-- gastown:convoy cv-1 -->\nold' },
      ],
    });

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
