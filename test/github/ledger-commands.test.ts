import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fourBeadPlan } from '../support/in-memory-town.js';
import { API, R, fixture, mockContext, mockPermission, mockTokenAndConfig, newProbot } from './harness.js';
import { FakeIssues, mockAnthropic, mockDispatch, newTown, readRemote, type Town } from './ledger-e2e.helpers.js';

const TITLES = ['Output schema', 'JSON for list', 'JSON for show', 'Docs for --json'];
const APPROVAL = 'requireApproval: true\n';

function commentPayload(body: string): any {
  const payload = fixture('issue_comment.created');
  payload.comment.body = body;
  return payload;
}

describe('/gt approve and /gt stop on the real ledger mirror', () => {
  let town: Town;

  beforeEach(() => {
    nock.disableNetConnect();
    town = newTown();
  });
  afterEach(async () => {
    nock.cleanAll();
    nock.enableNetConnect();
    await town.cleanup();
  });

  it('holds a plan for approval, materialises and dispatches on /gt approve, and /gt stop unslings the convoy', async () => {
    // The label: planned and recorded, only the status comment on GitHub.
    const issues = new FakeIssues();
    const dispatched: string[] = [];
    mockAnthropic(fourBeadPlan());
    const plan = nock(API);
    mockTokenAndConfig(plan, APPROVAL);
    mockPermission(plan, 'Codertocat', 'admin');
    mockContext(plan);
    issues.mockNewStatus(plan);
    await (await newProbot(town.deps)).receive({ name: 'issues', id: 'a1', payload: fixture('issues.labeled') });
    expect(plan.pendingMocks()).toEqual([]);
    expect(issues.statusBody).toContain('waiting for approval');
    expect((await readRemote(town.remote)).convoys[0]).toMatchObject({ status: 'awaiting_approval', approved: false });

    // /gt approve: the child issues, the edges, the status comment, the first dispatch.
    const approve = nock(API);
    mockTokenAndConfig(approve, APPROVAL);
    mockPermission(approve, 'Codertocat', 'write');
    approve.get(`${R}/issues/1/sub_issues`).query({ per_page: 100 }).reply(200, []);
    issues.mockMaterialise(approve, { check: (titles) => expect(titles).toEqual(TITLES) });
    issues.mockEditStatus(approve);
    mockDispatch(approve, dispatched);
    await (await newProbot(town.deps)).receive({ name: 'issue_comment', id: 'a2', payload: commentPayload('/gt approve') });
    expect(approve.pendingMocks()).toEqual([]);
    const approved = await readRemote(town.remote);
    expect(approved.convoys[0]).toMatchObject({ status: 'active', approved: true, approvedBy: 'Codertocat' });
    const first = approved.beads.find((b) => b.title === 'Output schema')!;
    expect(first.status).toBe('hooked');
    expect(dispatched).toEqual([first.id]);
    expect(approved.feed.find((e) => e.type === 'convoy_approved')?.message).toContain('Codertocat');

    // /gt stop: the convoy stops, the hooked bead goes back to open, one reply.
    const stop = nock(API);
    mockTokenAndConfig(stop, APPROVAL);
    mockPermission(stop, 'Codertocat', 'admin');
    issues.mockEditStatus(stop);
    let reply = '';
    stop.post(`${R}/issues/1/comments`).reply(201, (_u, body: any) => {
      reply = body.body;
      return { id: 901 };
    });
    await (await newProbot(town.deps)).receive({ name: 'issue_comment', id: 'a3', payload: commentPayload('/gt stop') });
    expect(stop.pendingMocks()).toEqual([]);
    const stopped = await readRemote(town.remote);
    expect(stopped.convoys[0]!.status).toBe('stopped');
    expect(stopped.beads.find((b) => b.id === first.id)!.status).toBe('open');
    expect(reply).toContain('Stopped convoy');
    expect(issues.statusBody).toContain('**Status:** stopped');
  });

  it('refuses /gt stop from someone without write access and leaves the ledger alone', async () => {
    const gh = nock(API);
    mockTokenAndConfig(gh);
    mockPermission(gh, 'Codertocat', 'triage');
    gh.post(`${R}/issues/1/comments`, (b) => /only people with write access/.test(b.body)).reply(201, { id: 5 });

    await (await newProbot(town.deps)).receive({ name: 'issue_comment', id: 's1', payload: commentPayload('/gt stop') });

    expect(gh.pendingMocks()).toEqual([]);
    expect((await readRemote(town.remote)).feed).toEqual([]);
  });
});
