import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GraphqlIssues } from './graphql-issues.js';
import { InMemoryTown } from '../support/in-memory-town.js';
import { API, R, appDeps, fixture, mockContext, mockPermission, mockTokenAndConfig, newProbot, requestLog } from './harness.js';

const APPROVAL_CONFIG = 'requireApproval: true\n';

function commentPayload(body: string, login = 'Codertocat', type = 'User') {
  const payload = fixture('issue_comment.created');
  payload.comment.body = body;
  payload.comment.user = { ...payload.comment.user, login, type };
  payload.sender = { ...payload.sender, login, type };
  return payload;
}

async function deliverComment(deps: InMemoryTown, body: string, login?: string, type?: string) {
  const probot = await newProbot(appDeps(deps));
  await probot.receive({ name: 'issue_comment', id: `c-${Math.random()}`, payload: commentPayload(body, login, type) as any });
}

/** Plans the fixture issue with `requireApproval: true`; returns the status comment body. */
async function planAwaitingApproval(deps: InMemoryTown): Promise<string> {
  const scope = nock(API);
  mockTokenAndConfig(scope, APPROVAL_CONFIG);
  mockPermission(scope, 'Codertocat', 'write');
  mockContext(scope);
  let body = '';
  scope.post(`${R}/issues/1/comments`).reply(201, (_u, b: any) => {
    body = b.body;
    return { id: 555 };
  });
  await deliverComment(deps, '/gt plan');
  expect(scope.pendingMocks()).toEqual([]);
  return body;
}

describe('/gt commands and the approval gate', () => {
  beforeEach(() => {
    nock.disableNetConnect();
  });
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('`/gt plan` with requireApproval records the plan and only posts the status comment with how to approve', async () => {
    const deps = new InMemoryTown();

    const body = await planAwaitingApproval(deps);

    expect(body).toContain('**Status:** awaiting approval');
    expect(body).toContain('`/gt approve`');
    expect(body).toContain('write access');
    expect(body).toContain('- [ ] Output schema — open');
    expect(deps.calls).toEqual(['convoyFor', 'recordPlan', 'publish', 'markConvoy github.statusComment 555']);
  });

  it('`/gt approve` by a reader is refused with one comment and changes nothing', async () => {
    const deps = new InMemoryTown();
    await planAwaitingApproval(deps);
    deps.calls.length = 0;
    const scope = nock(API);
    mockTokenAndConfig(scope, APPROVAL_CONFIG);
    mockPermission(scope, 'mallory', 'read');
    let reply = '';
    scope.post(`${R}/issues/1/comments`).reply(201, (_u, b: any) => {
      reply = b.body;
      return { id: 9 };
    });

    await deliverComment(deps, '/gt approve', 'mallory');

    expect(scope.pendingMocks()).toEqual([]);
    expect(reply).toBe('Sorry @mallory, only people with write access to this repository can approve a plan.');
    expect(deps.calls).toEqual([]);
    expect([...deps.convoys.values()][0]!.status).toBe('awaiting_approval');
  });

  it('`/gt approve` by a writer approves and materialises, editing the status comment', async () => {
    const deps = new InMemoryTown();
    const pending = await planAwaitingApproval(deps);
    deps.calls.length = 0;
    const scope = nock(API);
    const log = requestLog(scope);
    mockTokenAndConfig(scope, APPROVAL_CONFIG);
    mockPermission(scope, 'hubot-maintainer', 'maintain');
    scope.get(`${R}/issues/1/sub_issues`).query({ per_page: 100 }).reply(200, []);
    const gh = new GraphqlIssues();
    gh.mockTargets(scope);
    gh.mockCreateIssues(scope);
    gh.mockBlockedBy(scope);
    scope.get(`${R}/issues/comments/555`).reply(200, { id: 555, body: pending });
    let edited = '';
    scope.patch(`${R}/issues/comments/555`).reply(200, (_u, b: any) => {
      edited = b.body;
      return { id: 555 };
    });

    await deliverComment(deps, '/gt approve', 'hubot-maintainer');

    expect(scope.pendingMocks()).toEqual([]);
    expect(log.filter((l) => l.startsWith('POST') && l.endsWith('/comments'))).toEqual([]);
    expect(deps.calls.slice(0, 2)).toEqual(['convoyFor', 'approve hubot-maintainer']);
    expect(gh.created.map((c) => c.number)).toEqual([2, 3, 4, 5]);
    expect(gh.edgeList()).toEqual(['3<-2', '4<-2', '5<-3']);
    expect(edited).toContain('**Status:** active');
    expect(edited).not.toContain('/gt approve');
    expect(edited).toContain('- [ ] #5 Docs for --json — open');
    expect([...deps.convoys.values()][0]).toMatchObject({ status: 'active', approvedBy: 'hubot-maintainer' });
  });

  it('ignores comments from bots, comments that are not commands, and commands quoted below the first line', async () => {
    const deps = new InMemoryTown();

    // No nock scope: any request would be refused and fail the delivery.
    await deliverComment(deps, '/gt plan', 'gastown[bot]', 'Bot');
    await deliverComment(deps, 'Looks good to me!');
    await deliverComment(deps, 'Thanks!\n/gt approve');
    await deliverComment(deps, '/gt frobnicate');

    expect(deps.calls).toEqual([]);
  });

  it('ignores a pull_request.closed delivery (no handler yet makes no request)', async () => {
    const deps = new InMemoryTown();
    const probot = await newProbot(appDeps(deps));

    await probot.receive({ name: 'pull_request', id: 'pr-1', payload: fixture('pull_request.closed') });

    expect(deps.calls).toEqual([]);
  });
});
