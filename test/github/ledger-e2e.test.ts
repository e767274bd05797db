import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.js';
import { claimBead, finishBead } from '../../src/rig/work.js';
import type { Bead } from '../../src/town/types.js';
import { fourBeadPlan } from '../support/in-memory-town.js';
import { API, R, fixture, mockContext, mockPermission, mockTokenAndConfig, newProbot, requestLog } from './harness.js';
import {
  FakeIssues,
  closedPullRequest,
  mockAnthropic,
  mockDispatch,
  newTown,
  readRemote,
  remoteConvoyRefs,
  runnerRig,
  type Town,
} from './ledger-e2e.helpers.js';
import { TOWN_KINDS } from '../../src/rig/town-kinds.js';

const TITLES = { a: 'Output schema', b: 'JSON for list', c: 'JSON for show', d: 'Docs for --json' } as const;

function labeled(extra: string[] = []): any {
  const payload = fixture('issues.labeled');
  payload.issue.labels.push(...extra.map((name, i) => ({ id: 77 + i, name })));
  return payload;
}

/** A polecat's workflow run: claims the bead on the remote ledger, works, opens PR `pr`. */
async function polecatOpensPr(town: Town, beadId: string, pr: number): Promise<string> {
  const runner = await runnerRig(town.remote);
  try {
    const claim = await claimBead(runner, { runner: `gha-${pr}`, bead: beadId });
    if (!claim) throw new Error(`could not claim ${beadId}`);
    await finishBead(runner, claim, {
      branch: claim.branch,
      pr: { number: pr, id: 5000 + pr, url: `https://github.com/Codertocat/Hello-World/pull/${pr}` },
    });
    return claim.branch;
  } finally {
    runner.close();
  }
}

async function beadByTitle(town: Town, title: string): Promise<Bead> {
  const { beads } = await readRemote(town.remote);
  const bead = beads.find((b) => b.title === title);
  if (!bead) throw new Error(`no bead ${title}`);
  return bead;
}

/** The plan delivery's GitHub side for a fresh convoy (all 4 beads): no sub-issue or comment listing. */
function mockFreshPlan(scope: nock.Scope, issues: FakeIssues, dispatched: string[], check?: () => void): void {
  mockTokenAndConfig(scope);
  mockPermission(scope, 'Codertocat', 'admin');
  mockContext(scope);
  issues.mockMaterialise(scope, { check: () => check?.() });
  issues.mockNewStatus(scope);
  mockDispatch(scope, dispatched);
}

describe('GitHub flows on the real ledger mirror', () => {
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

  it('plans a labelled issue with the model, records it in the ledger before any GitHub write, dispatches, advances and lands', async () => {
    // 1. The label: the model plans 4 beads with 3 edges.
    const issues = new FakeIssues();
    const dispatched: string[] = [];
    let convoysAtFirstWrite: string[] | null = null;
    const model = mockAnthropic(fourBeadPlan());
    const gh = nock(API);
    const log = requestLog(gh);
    mockFreshPlan(gh, issues, dispatched, () => {
      convoysAtFirstWrite = remoteConvoyRefs(town.remote);
    });

    await (await newProbot(town.deps)).receive({ name: 'issues', id: 'p1', payload: labeled() });

    expect(model.pendingMocks()).toEqual([]);
    expect(gh.pendingMocks()).toEqual([]);
    expect(convoysAtFirstWrite).toHaveLength(1);
    // The four sub-issues in one createIssue batch, the three edges in one addBlockedBy batch.
    expect(issues.operations).toEqual(['targets', 'createIssue', 'addBlockedBy']);
    expect(issues.created.map((c) => c.parent)).toEqual([1, 1, 1, 1]);
    expect(issues.edgeList()).toEqual(['3<-2', '4<-2', '5<-3']);
    expect(log.filter((l) => l.startsWith(`POST ${R}/issues`))).toEqual([`POST ${R}/issues/1/comments`]);
    // The context query and the three above; nothing listed under #1 (a fresh convoy has no
    // sub-issues, and the query's comment listing served the status comment).
    expect(log.filter((l) => l === 'POST /graphql')).toHaveLength(4);
    expect(log.filter((l) => l.startsWith(`GET ${R}/issues/1/`))).toEqual([]);
    const afterPlan = await readRemote(town.remote);
    expect(afterPlan.convoys).toHaveLength(1);
    const convoy = afterPlan.convoys[0]!;
    expect(convoy).toMatchObject({
      status: 'active',
      planner: 'model',
      marks: { 'github.statusComment': 777 },
      sourceKey: 'github:Codertocat/Hello-World#1',
    });
    expect(convoy.materialisedAt).toBeTruthy();
    expect(convoy.usage?.inputTokens).toBe(412);
    const a = await beadByTitle(town, TITLES.a);
    expect(afterPlan.beads.map((b) => b.issue?.number).sort()).toEqual([2, 3, 4, 5]);
    expect(a.status).toBe('hooked');
    expect(dispatched).toEqual([a.id]);
    expect(a.labels.some((l) => l.startsWith('dispatched:'))).toBe(true);
    expect(issues.statusBody).toContain(`<!-- gastown:convoy ${convoy.id} -->`);
    expect(issues.statusBody).toContain('- [ ] #2 Output schema — hooked');

    // 2. The same delivery again: nothing created, nothing dispatched, no model call.
    const dup = nock(API);
    const dupLog = requestLog(dup);
    mockTokenAndConfig(dup);
    mockPermission(dup, 'Codertocat', 'admin');
    dup
      .get(`${R}/issues/1/sub_issues`)
      .query({ per_page: 100 })
      .reply(200, issues.listing({ 3: 1, 4: 1, 5: 1 }));
    for (const [child, blocker] of [
      [3, 2],
      [4, 2],
      [5, 3],
    ] as const) {
      dup
        .get(`${R}/issues/${child}/dependencies/blocked_by`)
        .query({ per_page: 100 })
        .reply(200, [{ id: issues.idOf(blocker) }]);
    }
    dup.get(`${R}/issues/comments/777`).reply(200, () => ({ id: 777, body: issues.statusBody }));

    await (await newProbot(town.deps)).receive({ name: 'issues', id: 'p1', payload: labeled() });

    expect(dup.pendingMocks()).toEqual([]);
    expect(dupLog.filter((l) => !l.startsWith('GET') && !l.includes('access_tokens'))).toEqual([]);
    const afterDup = await readRemote(town.remote);
    expect(afterDup.convoys).toHaveLength(1);
    expect(afterDup.convoys[0]!.lastError).toBeNull();
    expect(afterDup.feed.filter((e) => e.type === 'convoy_failed')).toEqual([]);

    // 3. The polecat's PR for a is merged: a closes, b and c become ready and are dispatched.
    const branchA = await polecatOpensPr(town, a.id, 10);
    // The PR opened by the polecat's workflow: the status comment shows the bead in review at once.
    const o1 = nock(API);
    mockTokenAndConfig(o1, 'closeParentOnLand: true\n');
    issues.mockEditStatus(o1);
    const opened = closedPullRequest({ number: 10, branch: branchA, merged: false });
    opened.action = 'opened';
    opened.pull_request.state = 'open';
    await (await newProbot(town.deps)).receive({ name: 'pull_request', id: 'o1', payload: opened });
    expect(o1.pendingMocks()).toEqual([]);
    expect(issues.statusBody).toMatch(/#2 Output schema — in review/);

    const m1 = nock(API);
    mockTokenAndConfig(m1, 'closeParentOnLand: true\n');
    m1.patch(`${R}/issues/2`, { state: 'closed', state_reason: 'completed' }).reply(200, {});
    for (const n of [3, 4]) {
      m1.post(`${R}/issues/${n}/labels`, { labels: ['gastown:ready'] }).reply(200, []);
      m1.delete(`${R}/issues/${n}/labels/gastown%3Ablocked`).reply(200, []);
    }
    issues.mockEditStatus(m1);
    mockDispatch(m1, dispatched, 2);

    await (await newProbot(town.deps)).receive({
      name: 'pull_request',
      id: 'm1',
      payload: closedPullRequest({ number: 10, branch: branchA, merged: true }),
    });

    expect(m1.pendingMocks()).toEqual([]);
    const b = await beadByTitle(town, TITLES.b);
    const c = await beadByTitle(town, TITLES.c);
    expect((await beadByTitle(town, TITLES.a)).status).toBe('closed');
    expect([b.status, c.status]).toEqual(['hooked', 'hooked']);
    expect(dispatched.slice(1).sort()).toEqual([b.id, c.id].sort());
    expect(issues.statusBody).toContain('- [x] #2 Output schema — closed');

    // 4. The merge event redelivered: nothing changes anywhere.
    const redelivery = nock(API);
    const redeliveryLog = requestLog(redelivery);
    mockTokenAndConfig(redelivery, 'closeParentOnLand: true\n');
    const before = await readRemote(town.remote);

    await (await newProbot(town.deps)).receive({
      name: 'pull_request',
      id: 'm1',
      payload: closedPullRequest({ number: 10, branch: branchA, merged: true }),
    });

    expect(redelivery.pendingMocks()).toEqual([]);
    expect(redeliveryLog).toHaveLength(2);
    expect(await readRemote(town.remote)).toEqual(before);

    // 5. b merged (d becomes ready and is dispatched), then c.
    const branchB = await polecatOpensPr(town, b.id, 11);
    const m2 = nock(API);
    mockTokenAndConfig(m2, 'closeParentOnLand: true\n');
    m2.patch(`${R}/issues/3`).reply(200, {});
    m2.post(`${R}/issues/5/labels`, { labels: ['gastown:ready'] }).reply(200, []);
    m2.delete(`${R}/issues/5/labels/gastown%3Ablocked`).reply(200, []);
    issues.mockEditStatus(m2);
    mockDispatch(m2, dispatched);
    await (await newProbot(town.deps)).receive({
      name: 'pull_request',
      id: 'm2',
      payload: closedPullRequest({ number: 11, branch: branchB, merged: true }),
    });
    expect(m2.pendingMocks()).toEqual([]);
    const d = await beadByTitle(town, TITLES.d);
    expect(dispatched.at(-1)).toBe(d.id);

    const branchC = await polecatOpensPr(town, c.id, 12);
    const m3 = nock(API);
    mockTokenAndConfig(m3, 'closeParentOnLand: true\n');
    m3.patch(`${R}/issues/4`).reply(200, {});
    issues.mockEditStatus(m3);
    await (await newProbot(town.deps)).receive({
      name: 'pull_request',
      id: 'm3',
      payload: closedPullRequest({ number: 12, branch: branchC, merged: true }),
    });
    expect(m3.pendingMocks()).toEqual([]);

    // 6. The last PR: the convoy lands, the parent hears of it and is closed (closeParentOnLand).
    const branchD = await polecatOpensPr(town, d.id, 13);
    const m4 = nock(API);
    mockTokenAndConfig(m4, 'closeParentOnLand: true\n');
    m4.patch(`${R}/issues/5`).reply(200, {});
    issues.mockEditStatus(m4);
    m4.get(`${R}/issues/1/comments`)
      .query({ per_page: 100 })
      .reply(200, () => [{ id: 777, body: issues.statusBody }]);
    let landedComment = '';
    m4.post(`${R}/issues/1/comments`).reply(201, (_u, body: any) => {
      landedComment = body.body;
      return { id: 778 };
    });
    m4.patch(`${R}/issues/1`, { state: 'closed', state_reason: 'completed' }).reply(200, {});

    await (await newProbot(town.deps)).receive({
      name: 'pull_request',
      id: 'm4',
      payload: closedPullRequest({ number: 13, branch: branchD, merged: true }),
    });

    expect(m4.pendingMocks()).toEqual([]);
    const landed = await readRemote(town.remote);
    expect(landed.convoys[0]!.status).toBe('landed');
    expect(landed.beads.every((bead) => bead.status === 'closed')).toBe(true);
    expect(landed.feed.some((e) => e.type === 'convoy_landed')).toBe(true);
    expect(landedComment).toContain(`<!-- gastown:landed ${convoy.id} -->`);
    expect(landedComment).toContain('#10, #11, #12, #13');
    expect(issues.statusBody).toContain('**Status:** landed');
  });

  it('resumes after a crash at the 3rd of 4 issues: the redelivery creates only the missing 2, with one plan in the ledger', async () => {
    const issues = new FakeIssues();
    const dispatched: string[] = [];
    const model = mockAnthropic(fourBeadPlan());
    const first = nock(API);
    mockTokenAndConfig(first);
    mockPermission(first, 'Codertocat', 'admin');
    mockContext(first);
    // GitHub creates the first two, then fails the rest of the batch.
    issues.mockMaterialise(first, { refuse: [TITLES.c], edges: false });
    issues.mockNewStatus(first);
    first.post(`${R}/issues/1/labels`, { labels: ['gastown:failed'] }).reply(200, []);

    await (await newProbot(town.deps)).receive({ name: 'issues', id: 'c1', payload: labeled() });

    expect(first.pendingMocks()).toEqual([]);
    expect(model.pendingMocks()).toEqual([]);
    expect(issues.statusBody).toContain('INTERNAL: Something went wrong');
    const crashed = await readRemote(town.remote);
    expect(crashed.convoys[0]!.lastError).toMatchObject({ code: 'gastown_forge' });
    expect(crashed.convoys[0]!.materialisedAt).toBeNull();
    expect(
      crashed.beads
        .filter((b) => b.issue)
        .map((b) => b.issue!.number)
        .sort(),
    ).toEqual([2, 3]);
    expect(crashed.beads.every((b) => b.status === 'open')).toBe(true);

    const again = nock(API);
    const log = requestLog(again);
    mockTokenAndConfig(again);
    mockPermission(again, 'Codertocat', 'admin');
    again.get(`${R}/issues/1/sub_issues`).query({ per_page: 100 }).reply(200, issues.listing());
    issues.mockMaterialise(again, { check: (titles) => expect(titles).toEqual([TITLES.c, TITLES.d]) });
    issues.mockEditStatus(again);
    again.delete(`${R}/issues/1/labels/gastown%3Afailed`).reply(200, []);
    mockDispatch(again, dispatched);

    await (await newProbot(town.deps)).receive({ name: 'issues', id: 'c2', payload: labeled(['gastown:failed']) });

    expect(again.pendingMocks()).toEqual([]);
    expect(log.filter((l) => l === 'POST /graphql')).toHaveLength(3);
    expect(issues.created.map((i) => i.title)).toEqual([TITLES.a, TITLES.b, TITLES.c, TITLES.d]);
    expect(issues.edgeList()).toEqual(['3<-2', '4<-2', '5<-3']);
    const resumed = await readRemote(town.remote);
    expect(resumed.convoys).toHaveLength(1);
    expect(resumed.convoys[0]!.lastError).toBeNull();
    expect(resumed.convoys[0]!.materialisedAt).toBeTruthy();
    expect(issues.statusBody).not.toContain('CAUTION');
    expect(dispatched).toEqual([(await beadByTitle(town, TITLES.a)).id]);
  });

  it('refuses an untrusted sender: no model call, nothing in the ledger, label removed', async () => {
    const gh = nock(API);
    mockTokenAndConfig(gh);
    mockPermission(gh, 'Codertocat', 'read');
    gh.post(`${R}/issues/1/comments`, (b) => /Only people with write access/.test(b.body)).reply(201, { id: 5 });
    gh.delete(`${R}/issues/1/labels/gastown%3Amayor`).reply(200, []);

    await (await newProbot(town.deps)).receive({ name: 'issues', id: 'u1', payload: labeled() });

    expect(gh.pendingMocks()).toEqual([]);
    expect(remoteConvoyRefs(town.remote)).toEqual([]);
    expect((await readRemote(town.remote)).beads).toEqual([]);
  });

  it('reopens a bead whose PR is closed unmerged and dispatches it again; a redelivery changes nothing', async () => {
    const issues = new FakeIssues();
    const dispatched: string[] = [];
    mockAnthropic(fourBeadPlan());
    mockFreshPlan(nock(API), issues, dispatched);
    await (await newProbot(town.deps)).receive({ name: 'issues', id: 'r1', payload: labeled() });
    const a = await beadByTitle(town, TITLES.a);
    const branch = await polecatOpensPr(town, a.id, 10);
    expect((await beadByTitle(town, TITLES.a)).status).toBe('in_review');

    const closed = nock(API);
    mockTokenAndConfig(closed);
    // Open, slung again and hooked: the status comment already says "hooked", so it is only read.
    closed.get(`${R}/issues/comments/777`).reply(200, () => ({ id: 777, body: issues.statusBody }));
    mockDispatch(closed, dispatched);
    await (await newProbot(town.deps)).receive({
      name: 'pull_request',
      id: 'r2',
      payload: closedPullRequest({ number: 10, branch, merged: false }),
    });

    expect(closed.pendingMocks()).toEqual([]);
    const after = await readRemote(town.remote);
    const reopened = after.beads.find((b) => b.id === a.id)!;
    expect(after.feed.filter((e) => e.type === 'bead_reopened').map((e) => e.message)).toEqual([
      `${a.id} open again: pull request closed without merging`,
    ]);
    expect(reopened.pr).toBeNull();
    // Policy: a rejected bead goes straight back to work, as a new sling with its own run.
    expect(reopened.status).toBe('hooked');
    expect(dispatched).toEqual([a.id, a.id]);
    expect(reopened.labels.filter((l) => l.startsWith('dispatched:'))).toHaveLength(1);
    expect(reopened.labels).not.toEqual(a.labels);

    const again = nock(API);
    const log = requestLog(again);
    mockTokenAndConfig(again);
    await (await newProbot(town.deps)).receive({
      name: 'pull_request',
      id: 'r2',
      payload: closedPullRequest({ number: 10, branch, merged: false }),
    });
    expect(again.pendingMocks()).toEqual([]);
    expect(log).toHaveLength(3); // token and the two config lookups
    expect(await readRemote(town.remote)).toEqual(after);
    expect(after.feed.filter((e) => e.type === 'convoy_failed')).toEqual([]);
  });

  it('a polecat run that died mid-bead is slung anew and dispatched again as soon as its workflow run completes', async () => {
    const issues = new FakeIssues();
    const dispatched: string[] = [];
    mockAnthropic(fourBeadPlan());
    mockFreshPlan(nock(API), issues, dispatched);
    await (await newProbot(town.deps)).receive({ name: 'issues', id: 'w1', payload: labeled() });
    const a = await beadByTitle(town, TITLES.a);
    // The run claims the bead as gha-<run id> and dies; its last `gt sync` publishes the claim.
    const runner = await runnerRig(town.remote);
    try {
      expect(await claimBead(runner, { runner: 'gha-777001', bead: a.id })).not.toBeNull();
    } finally {
      runner.close();
    }
    expect((await beadByTitle(town, TITLES.a)).status).toBe('in_progress');

    const done = nock(API);
    mockTokenAndConfig(done);
    mockDispatch(done, dispatched);
    await (await newProbot(town.deps)).receive({ name: 'workflow_run', id: 'w2', payload: fixture('workflow_run.completed') });

    expect(done.pendingMocks()).toEqual([]);
    const after = await readRemote(town.remote);
    const again = after.beads.find((b) => b.id === a.id)!;
    expect(again.status).toBe('hooked');
    expect(dispatched).toEqual([a.id, a.id]);
    expect(after.feed.filter((e) => e.type === 'stalled').map((e) => e.message)).toEqual([expect.stringContaining(a.id)]);

    // The same event redelivered: the bead is already slung anew and dispatched.
    const twice = nock(API);
    mockTokenAndConfig(twice);
    await (await newProbot(town.deps)).receive({ name: 'workflow_run', id: 'w2', payload: fixture('workflow_run.completed') });
    expect(twice.pendingMocks()).toEqual([]);
    expect(dispatched).toEqual([a.id, a.id]);
  });

  it('a run that died before publishing any claim is known by its title: slung anew and dispatched again, once per run, until the retry cap', async () => {
    const issues = new FakeIssues();
    const dispatched: string[] = [];
    mockAnthropic(fourBeadPlan());
    mockFreshPlan(nock(API), issues, dispatched);
    await (await newProbot(town.deps)).receive({ name: 'issues', id: 'v1', payload: labeled() });
    const a = await beadByTitle(town, TITLES.a);
    expect(a.status).toBe('hooked');
    const runsOfA = () => dispatched.filter((id) => id === a.id).length;
    expect(runsOfA()).toBe(1);
    // Each run vanished before its first `gt sync`: GitHub's ledger never heard of it.
    const endedRun = (id: number, createdAt = new Date().toISOString()) => {
      const payload = fixture('workflow_run.completed');
      payload.workflow_run.id = id;
      payload.workflow_run.display_title = `gastown-polecat ${a.id}`;
      payload.workflow_run.created_at = createdAt;
      return payload;
    };

    const first = nock(API);
    mockTokenAndConfig(first);
    mockDispatch(first, dispatched);
    await (await newProbot(town.deps)).receive({ name: 'workflow_run', id: 'v2', payload: endedRun(880001) });
    expect(first.pendingMocks()).toEqual([]);
    expect(runsOfA()).toBe(2);
    const after = await readRemote(town.remote);
    const again = after.beads.find((b) => b.id === a.id)!;
    expect(again).toMatchObject({ status: 'hooked', assignee: a.assignee, attempts: a.attempts + 1 });
    expect(after.feed.filter((e) => e.type === 'stalled').map((e) => e.message)).toEqual([
      expect.stringMatching(/run 880001 .* ended before/),
    ]);

    // Redelivered, a run from before this sling, a run with no readable time: nothing is slung or dispatched.
    const replays = [
      ['v2', endedRun(880001)],
      ['v3', endedRun(880000, '2020-01-01T00:00:00Z')],
      ['v4', endedRun(879999, 'not a time')],
    ] as const;
    for (const [id, payload] of replays) {
      const quiet = nock(API);
      mockTokenAndConfig(quiet);
      await (await newProbot(town.deps)).receive({ name: 'workflow_run', id, payload });
      expect(quiet.pendingMocks()).toEqual([]);
    }
    expect(runsOfA()).toBe(2);
    expect((await readRemote(town.remote)).beads.find((b) => b.id === a.id)!.attempts).toBe(a.attempts + 1);

    // Runs that keep dying stop at the retry cap (3): the bead waits and the mayor is told.
    for (let run = 880002; run <= 880004; run++) {
      const next = nock(API);
      mockTokenAndConfig(next);
      if (run < 880004) mockDispatch(next, dispatched);
      await (await newProbot(town.deps)).receive({ name: 'workflow_run', id: `v${run}`, payload: endedRun(run) });
      expect(next.pendingMocks()).toEqual([]);
    }
    expect(runsOfA()).toBe(4);
    const capped = (await readRemote(town.remote)).beads.find((b) => b.id === a.id)!;
    expect(capped).toMatchObject({ status: 'hooked', attempts: 4 });
    const ledger = await Ledger.open({ kinds: TOWN_KINDS, repoDir: town.remote });
    try {
      const mail = await ledger.readChain<{ message?: { subject: string } }>('mail', 'mayor');
      expect(mail.map((m) => m.value.message?.subject)).toEqual([`STALLED ${a.id}: ${TITLES.a}`]);
    } finally {
      ledger.close();
    }
  });

  it('ignores closed pull requests that are not a polecat branch of this repository: no request, no ledger sync', async () => {
    const gh = nock(API);
    const log = requestLog(gh);
    const other = closedPullRequest({ number: 20, branch: 'feature/readme', merged: true });
    const fork = closedPullRequest({ number: 21, branch: 'polecat/nux/gt-abcd', merged: false });
    fork.pull_request.head.repo = { ...fork.pull_request.head.repo, full_name: 'mallory/Hello-World' };

    await (await newProbot(town.deps)).receive({ name: 'pull_request', id: 'x1', payload: other });
    await (await newProbot(town.deps)).receive({ name: 'pull_request', id: 'x2', payload: fork });

    expect(log).toEqual([]);
    expect(remoteConvoyRefs(town.remote)).toEqual([]);
  });

  it('plans from the issue checklist when no model key is configured (hidden tasks ignored)', async () => {
    await town.cleanup();
    town = newTown({ ANTHROPIC_API_KEY: '' });
    const issues = new FakeIssues();
    const dispatched: string[] = [];
    const payload = labeled();
    payload.issue.body = '- [ ] Parser\n- [ ] CLI (after 1)\n<!-- - [ ] Hidden task -->';
    const gh = nock(API);
    mockTokenAndConfig(gh);
    mockPermission(gh, 'Codertocat', 'admin');
    mockContext(gh);
    issues.mockMaterialise(gh, { check: (titles) => expect(titles).toEqual(['Parser', 'CLI']) });
    issues.mockNewStatus(gh);
    mockDispatch(gh, dispatched);

    await (await newProbot(town.deps)).receive({ name: 'issues', id: 'k1', payload });

    expect(gh.pendingMocks()).toEqual([]);
    const { convoys, beads } = await readRemote(town.remote);
    expect(convoys[0]).toMatchObject({ planner: 'checklist', usage: null });
    expect(beads.map((b) => b.title).sort()).toEqual(['CLI', 'Parser']);
    expect(issues.statusBody).toContain('**Planner:** checklist');
  });

  it('retries a dispatch that failed (no workflow yet) at the next event, once', async () => {
    const issues = new FakeIssues();
    const dispatched: string[] = [];
    mockAnthropic(fourBeadPlan());
    const gh = nock(API);
    mockTokenAndConfig(gh);
    mockPermission(gh, 'Codertocat', 'admin');
    mockContext(gh);
    issues.mockMaterialise(gh);
    issues.mockNewStatus(gh);
    gh.post(`${R}/actions/workflows/gastown-polecat.yml/dispatches`).reply(404, { message: 'Not Found' });

    await (await newProbot(town.deps)).receive({ name: 'issues', id: 'w1', payload: labeled() });

    expect(gh.pendingMocks()).toEqual([]);
    const slung = await beadByTitle(town, TITLES.a);
    expect(slung.status).toBe('hooked');
    expect(slung.labels).toEqual([]);

    // The workflow is added; the next delivery (a redelivery here) dispatches the pending bead.
    const again = nock(API);
    mockTokenAndConfig(again);
    mockPermission(again, 'Codertocat', 'admin');
    again
      .get(`${R}/issues/1/sub_issues`)
      .query({ per_page: 100 })
      .reply(200, issues.listing({ 3: 1, 4: 1, 5: 1 }));
    for (const [child, blocker] of [
      [3, 2],
      [4, 2],
      [5, 3],
    ] as const) {
      again
        .get(`${R}/issues/${child}/dependencies/blocked_by`)
        .query({ per_page: 100 })
        .reply(200, [{ id: issues.idOf(blocker) }]);
    }
    again.get(`${R}/issues/comments/777`).reply(200, () => ({ id: 777, body: issues.statusBody }));
    mockDispatch(again, dispatched);
    await (await newProbot(town.deps)).receive({ name: 'issues', id: 'w1', payload: labeled() });
    expect(again.pendingMocks()).toEqual([]);
    expect(dispatched).toEqual([slung.id]);

    // And once only: a third delivery dispatches nothing.
    const third = nock(API);
    mockTokenAndConfig(third);
    mockPermission(third, 'Codertocat', 'admin');
    third
      .get(`${R}/issues/1/sub_issues`)
      .query({ per_page: 100 })
      .reply(200, issues.listing({ 3: 1, 4: 1, 5: 1 }));
    for (const [child, blocker] of [
      [3, 2],
      [4, 2],
      [5, 3],
    ] as const) {
      third
        .get(`${R}/issues/${child}/dependencies/blocked_by`)
        .query({ per_page: 100 })
        .reply(200, [{ id: issues.idOf(blocker) }]);
    }
    third.get(`${R}/issues/comments/777`).reply(200, () => ({ id: 777, body: issues.statusBody }));
    await (await newProbot(town.deps)).receive({ name: 'issues', id: 'w1', payload: labeled() });
    expect(third.pendingMocks()).toEqual([]);
    expect(dispatched).toEqual([slung.id]);
  });

  it('finishes the GitHub side of a merge on redelivery when the first delivery failed half-way, then changes nothing', async () => {
    const issues = new FakeIssues();
    const dispatched: string[] = [];
    mockAnthropic(fourBeadPlan());
    mockFreshPlan(nock(API), issues, dispatched);
    await (await newProbot(town.deps)).receive({ name: 'issues', id: 'h1', payload: labeled() });
    const a = await beadByTitle(town, TITLES.a);
    const branch = await polecatOpensPr(town, a.id, 10);
    const merge = () => closedPullRequest({ number: 10, branch, merged: true });

    const down = nock(API);
    mockTokenAndConfig(down);
    down.patch(`${R}/issues/2`).reply(502, { message: 'Bad Gateway' });
    await expect((await newProbot(town.deps)).receive({ name: 'pull_request', id: 'h2', payload: merge() })).rejects.toThrow(/close issue/);
    expect(down.pendingMocks()).toEqual([]);
    expect((await beadByTitle(town, TITLES.a)).status).toBe('closed');

    const retry = nock(API);
    mockTokenAndConfig(retry);
    retry.patch(`${R}/issues/2`, { state: 'closed', state_reason: 'completed' }).reply(200, {});
    for (const n of [3, 4]) {
      retry.post(`${R}/issues/${n}/labels`, { labels: ['gastown:ready'] }).reply(200, []);
      retry.delete(`${R}/issues/${n}/labels/gastown%3Ablocked`).reply(200, []);
    }
    issues.mockEditStatus(retry);
    mockDispatch(retry, dispatched, 2);
    await (await newProbot(town.deps)).receive({ name: 'pull_request', id: 'h2', payload: merge() });
    expect(retry.pendingMocks()).toEqual([]);
    expect((await beadByTitle(town, TITLES.a)).labels).toContain('github:merge-mirrored');
    expect(issues.statusBody).toContain('- [x] #2 Output schema — closed');

    const third = nock(API);
    const log = requestLog(third);
    mockTokenAndConfig(third);
    await (await newProbot(town.deps)).receive({ name: 'pull_request', id: 'h2', payload: merge() });
    expect(third.pendingMocks()).toEqual([]);
    expect(log).toHaveLength(3);
    expect(dispatched).toHaveLength(3);
  });
});
