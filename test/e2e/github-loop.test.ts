/**
 * The loop a user lives in, end to end and offline: a maintainer labels an issue
 * `gastown:mayor`; the app (started as `npm start` starts it) plans it into sub-issues with
 * blocked-by edges and a status comment; polecats run as workflow runs, in parallel, and
 * open pull requests; a reviewer merges them; the next wave is dispatched; the convoy lands
 * and the parent issue is closed. GitHub is the double (test/support/github-double). One
 * town for the file: the demo's 5-bead, 3-wave goal, then the issue's 6-bead, 2-wave one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ACTION_REF, DEFAULT_ACTION_REPO } from '../../src/cli/commands/install-workflow.js';
import {
  GOAL_BODY,
  GOAL_TITLE,
  MAINTAINER,
  TWO_WAVE_BODY,
  TWO_WAVE_TITLE,
  buildForTown,
  beadOfPull,
  mergeUntilLanded,
  pullsReadyToMerge,
  remoteLedger,
  startGithubTown,
  type GithubTown,
} from './github-town.js';

describe('the GitHub loop on the double', () => {
  let town: GithubTown;

  beforeAll(async () => {
    await buildForTown();
    town = await startGithubTown();
  }, 300_000);
  afterAll(async () => {
    await town?.stop();
  });

  it('plans a labelled issue, runs polecats in waves, merges their PRs and lands the convoy', async () => {
    const { double } = town;
    const started = Date.now();
    const mergedAt = new Map<string, number>();
    try {
      // 1. A maintainer opens the goal and labels it.
      const goal = double.openIssue(MAINTAINER, GOAL_TITLE, GOAL_BODY);
      double.addLabel(MAINTAINER, goal, 'gastown:mayor');

      // 2. The plan: five sub-issues, then the polecats' pull requests; a reviewer merges
      //    each one whose run has finished, until the parent issue is closed.
      const parent = () => double.state.issues.get(goal)!;
      await double.until('the plan on GitHub', () => parent().subIssues.length === 5, 120_000);
      while (parent().state === 'open') {
        // A reviewer who merges when the running polecats are done: the waves stay apart.
        await double.until(
          'a pull request to merge, or the landing',
          () => parent().state === 'closed' || (double.runs.active === 0 && pullsReadyToMerge(double).length > 0),
          240_000,
        );
        for (const pull of pullsReadyToMerge(double)) {
          const res = await double.mergePullRequest(MAINTAINER, pull.number);
          expect(res.status, JSON.stringify(res.json)).toBe(200);
          mergedAt.set(beadOfPull(pull)!, Date.now());
        }
      }
      await double.until(
        'the app and the runs to settle',
        async () => (await remoteLedger(double)).convoys[0]?.status === 'landed' && double.runs.active === 0,
      );
      await double.idle();
    } catch (err) {
      console.error(town.app.log().slice(-20_000));
      for (const run of double.state.runs.values()) if (run.conclusion !== 'success') console.error(run.displayTitle, run.steps);
      throw err;
    }
    const seconds = (Date.now() - started) / 1000;
    console.info(
      `GitHub loop: ${seconds.toFixed(1)} s, ${double.requests.length} requests, ${double.webhooks.deliveries.length} webhooks, ${double.state.runs.size} runs`,
    );

    if (process.env.E2E_DUMP) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(
        process.env.E2E_DUMP,
        JSON.stringify(
          {
            pulls: [...double.state.pulls.values()],
            runs: [...double.state.runs.values()],
            issues: [...double.state.issues.values()],
            comments: [...double.state.comments.values()],
            requests: double.requests,
            deliveries: double.webhooks.deliveries.map((d) => ({ ...d, body: undefined })),
            log: town.app.log(),
          },
          null,
          1,
        ),
      );
    }
    // GitHub's state: the parent, its five sub-issues and their blocked-by edges.
    const { state } = double;
    const parentIssue = [...state.issues.values()].find((i) => i.title === GOAL_TITLE)!;
    expect(parentIssue).toMatchObject({ state: 'closed', stateReason: 'completed' });
    expect(parentIssue.labels).toContain('gastown:mayor');
    const children = parentIssue.subIssues.map((n) => state.issues.get(n)!);
    expect(children.map((c) => c.title)).toEqual([
      'Add the add operation',
      'Add the sub operation',
      'Add the max operation',
      'Add mul as repeated add',
      'Document every operation in the README',
    ]);
    const [add, sub, max, mul, docs] = children as [
      (typeof children)[0],
      (typeof children)[0],
      (typeof children)[0],
      (typeof children)[0],
      (typeof children)[0],
    ];
    expect(mul.blockedBy).toEqual([add.number]);
    expect([...docs.blockedBy].sort((a, b) => a - b)).toEqual([sub.number, max.number, mul.number]);
    for (const child of children) {
      expect(child, child.title).toMatchObject({ state: 'closed', stateReason: 'completed', parent: parentIssue.number });
      expect(child.labels).toContain('gastown:bead');
      expect(child.body).toMatch(/<!-- gastown:bead gt-[0-9a-z]+ -->/);
    }

    // Five pull requests, one per child, opened with the app's scoped token (so CI would run) and merged.
    const pulls = [...state.pulls.values()];
    expect(pulls).toHaveLength(5);
    for (const child of children) {
      const pull = pulls.find((p) => p.body?.startsWith(`Closes #${child.number}\n`));
      expect(pull, `PR for #${child.number}`).toMatchObject({ merged: true, base: 'main', user: { login: 'gastown[bot]' } });
      expect(pull!.head).toMatch(/^polecat\/[a-z]+\/gt-[0-9a-z]+$/);
      expect(pull!.body).not.toContain('GITHUB_TOKEN');
    }
    // One exchange per run, each for exactly this repository and contents + pull requests.
    const repositoryId = Number(state.renderRepository().id);
    // and revoked by the action once its work step is over.
    expect(double.scopedTokens).toEqual(
      Array(5).fill({ repository_ids: [repositoryId], permissions: { contents: 'write', pull_requests: 'write' }, revoked: true }),
    );
    expect(town.app.log()).toContain('Token exchange: scoped installation token issued');
    expect(town.app.log()).not.toMatch(/ghs_[0-9a-f]{8}|eyJhbGciOi/);
    for (const run of state.runs.values())
      expect(run.steps.map((s) => s.name)).toContain(`${DEFAULT_ACTION_REPO}@${DEFAULT_ACTION_REF} › Work the bead`);
    // The script agent checked, with each run's token, who last edited the issues its blocks may
    // come from (the goal and the bead's own issue, which the app wrote and so vouches for nothing).
    expect(double.requests.filter((r) => r.path === '/api/graphql' && r.actor === 'github-actions[bot]' && r.status === 200)).toHaveLength(
      10,
    );
    expect(
      double.requests.filter((r) => r.path.endsWith(`/collaborators/${MAINTAINER}/permission`) && r.actor === 'github-actions[bot]'),
    ).toHaveLength(5);

    const firstWaveNames = [add, sub, max].map((c) => pulls.find((p) => p.body?.startsWith(`Closes #${c.number}\n`))!.head.split('/')[1]);
    expect(new Set(firstWaveNames).size, firstWaveNames.join(', ')).toBe(3);

    // Runs: one per bead, all green; the first wave ran in parallel; later waves were
    // dispatched only after their blockers' pull requests were merged.
    const runs = [...state.runs.values()];
    expect(runs.map((r) => [r.displayTitle, r.conclusion])).toEqual(runs.map((r) => [`gastown-polecat ${r.inputs.bead}`, 'success']));
    expect(runs).toHaveLength(5);
    const beadOf = (issue: number) => /<!-- gastown:bead (gt-[0-9a-z]+) -->/.exec(state.issues.get(issue)!.body ?? '')![1]!;
    const runOf = (issue: number) => runs.find((r) => r.inputs.bead === beadOf(issue))!;
    const firstWave = [add, sub, max].map((c) => runOf(c.number));
    const firstMerge = Math.min(...mergedAt.values());
    for (const run of firstWave) expect(run.startedMs!).toBeLessThan(firstMerge);
    const overlapping = firstWave.flatMap((a, i) =>
      firstWave.slice(i + 1).filter((b) => a.startedMs! < b.endedMs! && b.startedMs! < a.endedMs!),
    );
    expect(overlapping.length, 'first-wave runs that ran at the same time').toBeGreaterThan(0);
    expect(runOf(mul.number).startedMs!).toBeGreaterThanOrEqual(mergedAt.get(beadOf(add.number))!);
    for (const blocker of [sub, max, mul])
      expect(runOf(docs.number).startedMs!).toBeGreaterThanOrEqual(mergedAt.get(beadOf(blocker.number))!);

    // The status comment's final text, and the landing comment.
    const comments = [...state.comments.values()].filter((c) => c.issue === parentIssue.number);
    const status = comments.find((c) => c.body.includes('<!-- gastown:convoy '))!;
    expect(status.user.login).toBe('gastown[bot]');
    expect(status.body).toContain('**Status:** landed · **Planner:** checklist');
    for (const child of children) expect(status.body).toMatch(new RegExp(`^- \\[x\\] #${child.number} .* — closed · PR #\\d+$`, 'm'));
    expect(status.body).toContain(`click b_`);
    // The double's main has no protection rule or ruleset: the comment says so.
    expect(status.body).toContain(
      '> [!WARNING]\n> `main` is not protected: no branch protection rule or ruleset requires a pull request for main.',
    );
    expect(status.body).toContain(`"${double.webUrl}/gastown-e2e/calc/issues/${add.number}"`);
    expect(comments.find((c) => c.body.includes('<!-- gastown:landed '))?.body).toMatch(/Convoy `.*` landed: all 5 beads are merged/);

    // The code on main: every operation, tested and documented.
    const readme = await double.repo.readFile('README.md');
    expect(readme).toContain('## Operations');
    for (const op of ['add', 'sub', 'max', 'mul']) expect(await double.repo.readFile(`ops/${op}.sh`), op).not.toBeNull();

    // The ledger on the remote: one landed convoy, five closed beads with their PRs.
    const ledger = await remoteLedger(double);
    expect(ledger.convoys).toHaveLength(1);
    expect(ledger.convoys[0]).toMatchObject({
      status: 'landed',
      sourceKey: `github:gastown-e2e/calc#${parentIssue.number}`,
      marks: { 'github.statusComment': status.id },
    });
    expect(ledger.beads).toHaveLength(5);
    for (const bead of ledger.beads) expect(bead, bead.id).toMatchObject({ status: 'closed', pr: { number: expect.any(Number) } });
    expect([...double.repo.refs('refs/gastown/beads/').keys()]).toHaveLength(5);
    // Nuke: every merged polecat branch was deleted on GitHub; main is the only branch left.
    expect([...double.repo.refs('refs/heads/').keys()]).toEqual(['refs/heads/main']);
    expect(double.count('DELETE', /\/git\/refs\/heads(\/|%2F)polecat/i)).toBe(5);

    // Requests: five dispatches, nothing refused for want of credentials, no server errors.
    expect(double.count('POST', /\/actions\/workflows\/gastown-polecat\.yml\/dispatches$/)).toBe(5);
    expect(double.requests.filter((r) => r.status === 401 || r.status >= 500)).toEqual([]);
    expect(double.webhooks.deliveries.filter((d) => d.status !== 200 && d.status !== 202)).toEqual([]);
  }, 600_000);

  it('a 6-bead, 2-wave convoy: three runs at once, three more after their blockers merge, in at most 3 requests per bead to plan', async () => {
    const { double } = town;
    const from = double.requests.length;
    const goal = double.openIssue(MAINTAINER, TWO_WAVE_TITLE, TWO_WAVE_BODY);
    double.addLabel(MAINTAINER, goal, 'gastown:mayor');
    let mergedAt = new Map<string, number>();
    let planPhase: typeof double.requests = [];
    try {
      const dispatches = () =>
        double.requests.slice(from).filter((r) => r.method === 'POST' && /\/dispatches$/.test(r.path) && r.status === 204);
      await double.until('the first wave dispatched', () => dispatches().length >= 3, 120_000);
      // The plan phase: everything the app asked of GitHub from the label to the first wave's last dispatch.
      planPhase = double.requests
        .slice(from, double.requests.indexOf(dispatches()[2]!) + 1)
        .filter((r) => r.actor === 'gastown[bot]' || r.actor === null);
      mergedAt = await mergeUntilLanded(double, goal);
      await double.until('the landing in the ledger', async () =>
        (await remoteLedger(double)).convoys.some((c) => c.source?.issue?.number === goal && c.status === 'landed'),
      );
      await double.quiet(1000);
    } catch (err) {
      console.error(town.app.log().slice(-20_000));
      throw err;
    }

    // GitHub: six sub-issues born as such, labelled, with their five edges; all closed.
    const { state } = double;
    const parent = state.issues.get(goal)!;
    expect(parent).toMatchObject({ state: 'closed', stateReason: 'completed' });
    const children = parent.subIssues.map((n) => state.issues.get(n)!);
    expect(children.map((c) => c.title)).toEqual([
      'Add the min operation',
      'Add the neg operation',
      'Add the dbl operation',
      'Add abs on top of neg',
      'Add quad as dbl twice',
      'List the new operations in CHANGES.md',
    ]);
    const [min, neg, dbl, abs, quad, changes] = children as [
      (typeof children)[0],
      (typeof children)[0],
      (typeof children)[0],
      (typeof children)[0],
      (typeof children)[0],
      (typeof children)[0],
    ];
    expect(abs.blockedBy).toEqual([neg.number]);
    expect(quad.blockedBy).toEqual([dbl.number]);
    expect([...changes.blockedBy].sort((a, b) => a - b)).toEqual([min.number, neg.number, dbl.number]);
    for (const child of children)
      expect(child, child.title).toMatchObject({ state: 'closed', parent: goal, user: { login: 'gastown[bot]' } });
    expect(min.labels).toEqual(['gastown:bead', 'gastown:ready']);

    // The plan phase in requests: one createIssue batch for the six, one addBlockedBy batch for
    // the five edges, no REST creation or linking, and at most 3 requests per planned bead.
    const kinds = planPhase.map((r) =>
      r.graphql
        ? `${r.graphql.type} ${[...new Set(r.graphql.fields)].join(',')}×${r.graphql.fields.length}`
        : `${r.method} ${r.path.replace(/\/repos\/[^/]+\/[^/]+/, '')}`,
    );
    expect(kinds).toContain('mutation createIssue×6');
    expect(kinds).toContain('mutation addBlockedBy×5');
    expect(kinds.filter((k) => /^POST \/issues(\/\d+\/(sub_issues|dependencies\/blocked_by))?$/.test(k))).toEqual([]);
    expect(planPhase.length, kinds.join('\n')).toBeLessThanOrEqual(3 * 6);

    // Runs: the first wave together; each second-wave run only after its blockers merged.
    const beadOf = (n: number) => /<!-- gastown:bead (gt-[0-9a-z]+) -->/.exec(state.issues.get(n)!.body ?? '')![1]!;
    const runsOf = (n: number) => [...state.runs.values()].filter((r) => r.inputs.bead === beadOf(n));
    for (const child of children)
      expect(
        runsOf(child.number).map((r) => r.conclusion),
        child.title,
      ).toEqual(['success']);
    const firstMerge = Math.min(...[min, neg, dbl].map((c) => mergedAt.get(beadOf(c.number))!));
    for (const c of [min, neg, dbl]) expect(runsOf(c.number)[0]!.startedMs!).toBeLessThan(firstMerge);
    expect(runsOf(abs.number)[0]!.startedMs!).toBeGreaterThanOrEqual(mergedAt.get(beadOf(neg.number))!);
    expect(runsOf(quad.number)[0]!.startedMs!).toBeGreaterThanOrEqual(mergedAt.get(beadOf(dbl.number))!);
    for (const c of [min, neg, dbl]) expect(runsOf(changes.number)[0]!.startedMs!).toBeGreaterThanOrEqual(mergedAt.get(beadOf(c.number))!);

    // Pull requests merged, code on main, the convoy landed in the ledger with six closed beads.
    for (const child of children)
      expect(
        [...state.pulls.values()].find((p) => p.body?.startsWith(`Closes #${child.number}\n`)),
        child.title,
      ).toMatchObject({ merged: true });
    for (const op of ['min', 'neg', 'dbl', 'abs', 'quad']) expect(await double.repo.readFile(`ops/${op}.sh`), op).not.toBeNull();
    expect(await double.repo.readFile('CHANGES.md')).toContain('- added dbl');
    const ledger = await remoteLedger(double);
    const convoy = ledger.convoys.find((c) => c.source?.issue?.number === goal)!;
    expect(convoy.status).toBe('landed');
    expect(ledger.beads.filter((b) => b.convoy === convoy.id).map((b) => b.status)).toEqual(Array(6).fill('closed'));
    const status = [...state.comments.values()].find((c) => c.issue === goal && c.body.includes('<!-- gastown:convoy '))!;
    expect(status.body).toContain('**Status:** landed');
  }, 600_000);
});
