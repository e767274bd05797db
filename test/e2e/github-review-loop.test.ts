/**
 * Issue 13's "Done means" on the double with the real app: across the beads of one convoy a
 * reviewer sends pull requests back three times and CI fails twice (once reported job by job
 * while its suite still runs, then by the suite: one round), within the cap; the convoy still
 * lands with every bead merged once, nothing loops (every dispatch counted) and the cap holds
 * (a fourth round on one bead labels it gastown:needs-human and mails the convoy's owner).
 * And part 3: after a merge, a sibling that now conflicts gets a round the agent resolves, and
 * one that is only behind is rebased and pushed without the agent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.js';
import type { InboxEntry } from '../../src/rig/mail.js';
import { TOWN_KINDS } from '../../src/rig/town-kinds.js';
import type { GitHubDouble } from '../support/github-double/github-double.js';
import type { PullRecord } from '../support/github-double/github-state.js';
import {
  MAINTAINER,
  REPO_CONFIG,
  beadOfPull,
  buildForTown,
  mergeUntilLanded,
  remoteLedger,
  startGithubTown,
  type GithubTown,
} from './github-town.js';

/** A checklist task whose one script step is `step`. */
const task = (title: string, step: string) => [`- [ ] ${title}`, '  ```sh', `  ${step}`, '  ```'].join('\n');

const dispatches = (double: GitHubDouble) => double.requests.filter((r) => r.method === 'POST' && /\/dispatches$/.test(r.path)).length;
const runsDone = (double: GitHubDouble, n: number) =>
  double.state.runs.size === n && [...double.state.runs.values()].every((r) => r.status === 'completed');

describe('the review loop closes on the double', () => {
  let town: GithubTown;

  beforeAll(async () => {
    await buildForTown();
    town = await startGithubTown({ config: REPO_CONFIG });
  }, 300_000);
  afterAll(async () => {
    await town?.stop();
  });

  it('three reviews and two CI failures across a convoy, within the cap: every bead merged once, nothing loops, a fourth round is a person’s', async () => {
    const { double } = town;
    const body = [
      'Three files that grow with every round.',
      '',
      task('Grow x.txt', 'echo x >> x.txt'),
      task('Grow y.txt', 'echo y >> y.txt'),
      task('Grow z.txt', 'echo z >> z.txt'),
    ].join('\n');
    const goal = double.openIssue(MAINTAINER, 'Growing files', body);
    try {
      double.addLabel(MAINTAINER, goal, 'gastown:mayor');
      await double.until('three runs and their pull requests', () => runsDone(double, 3) && double.state.pulls.size === 3, 240_000);
      await double.quiet();
      const pullOf = (file: string) => [...double.state.pulls.values()].find((p) => p.title.includes(file))!;
      const [x, y, z] = ['x.txt', 'y.txt', 'z.txt'].map(pullOf) as [PullRecord, PullRecord, PullRecord];
      let runs = 3;

      // Round 1 on x and on y at once: a review each.
      await double.review(MAINTAINER, x.number, { event: 'REQUEST_CHANGES', body: 'x: one more line.' });
      await double.review(MAINTAINER, y.number, { event: 'REQUEST_CHANGES', body: 'y: one more line.' });
      runs += 2;
      await double.until('round 1 on x and y', () => runsDone(double, runs), 240_000);
      await double.quiet();

      // Round 2 on x (a review) and on y (CI fails: the suite only).
      await double.review(MAINTAINER, x.number, { event: 'REQUEST_CHANGES', body: 'x: and another.' });
      await double.completeCheckSuite(y.head, { conclusion: 'failure', runs: [{ name: 'test', conclusion: 'failure', log: 'FAIL y' }] });
      runs += 2;
      await double.until('round 2 on x and y', () => runsDone(double, runs), 240_000);
      await double.quiet();

      // Round 3 on x: CI fails job by job while its suite still runs (this app's own failing
      // check and a passing job say nothing), then the suite completes: one round, not two.
      const own = await double.completeCheckSuite(x.head, {
        conclusion: 'failure',
        app: { id: 1234, slug: 'gastown', name: 'Gas Town' },
        runs: [{ name: 'gate', conclusion: 'failure', log: 'no' }],
      });
      const suite = await double.completeCheckSuite(x.head, {
        conclusion: 'failure',
        running: true,
        runs: [
          { name: 'lint', conclusion: 'success', log: 'fine' },
          { name: 'test', conclusion: 'failure', log: 'FAIL x' },
        ],
      });
      await double.until('the run for the failed job', () => double.state.runs.size === runs + 1, 30_000);
      double.finishCheckSuite(suite);
      runs += 1;
      await double.until('round 3 on x', () => runsDone(double, runs), 240_000);
      await double.quiet();
      expect(own).toBeGreaterThan(0);
      expect(double.state.runs.size).toBe(runs);

      // A fourth round on x is over the cap (3): labelled for a person, the owner mailed, nothing dispatched.
      await double.review(MAINTAINER, x.number, { event: 'REQUEST_CHANGES', body: 'x: a fourth time.' });
      await double.until('the label on x', () => double.state.issues.get(x.number)!.labels.includes('gastown:needs-human'), 30_000);
      await double.quiet();
      expect(double.state.runs.size).toBe(runs);
      expect(dispatches(double)).toBe(runs);

      const ledger = await Ledger.open({ kinds: TOWN_KINDS, repoDir: double.repo.path });
      try {
        const beads = (await ledger.list<{ id: string; revisions?: number; labels: string[]; pr: { number: number } | null }>('beads')).map(
          (b) => b.value,
        );
        const of = (p: PullRecord) => beads.find((b) => b.pr?.number === p.number)!;
        expect([of(x).revisions, of(y).revisions, of(z).revisions ?? 0]).toEqual([3, 2, 0]);
        expect(of(x).labels).toContain('gastown:needs-human');
        const mail = (await ledger.readChain<InboxEntry>('mail', MAINTAINER))
          .map((e) => e.value)
          .flatMap((v) => ('message' in v ? [v.message] : []))
          .filter((m) => m.type === 'NEEDS_HUMAN');
        expect(mail.map((m) => m.bead)).toEqual([of(x).id]);
        expect(mail[0]!.body).toContain('after 3 revision rounds (the cap is 3)');
      } finally {
        ledger.close();
      }

      // Every round added its line on the same branch of the same pull request.
      expect(double.state.pulls.size).toBe(3);
      expect(await double.repo.readFile('x.txt', x.head)).toBe('x\nx\nx\nx\n');
      expect(await double.repo.readFile('y.txt', y.head)).toBe('y\ny\ny\n');

      // The convoy lands, every bead merged once; no run started after the merges.
      const merged = await mergeUntilLanded(double, goal);
      expect([...merged.keys()].sort()).toEqual([x, y, z].map((p) => beadOfPull(p)!).sort());
      await double.until('the convoy landed', async () => (await remoteLedger(double)).convoys.at(-1)?.status === 'landed');
      await double.quiet();
      expect(double.state.runs.size).toBe(runs);
      expect(dispatches(double)).toBe(runs);
      expect([x, y, z].map((p) => double.state.pulls.get(p.number)!.merged)).toEqual([true, true, true]);
      expect(await double.repo.readFile('x.txt', 'main')).toBe('x\nx\nx\nx\n');
      expect(await double.repo.readFile('y.txt', 'main')).toBe('y\ny\ny\n');
      expect(await double.repo.readFile('z.txt', 'main')).toBe('z\n');
    } catch (err) {
      console.error(town.app.log().slice(-20_000));
      for (const run of double.state.runs.values()) if (run.conclusion !== 'success') console.error(run.displayTitle, run.steps);
      throw err;
    }
  }, 900_000);

  it('after a merge, a sibling that conflicts gets a round the agent resolves, and one that is behind is rebased without the agent', async () => {
    const { double } = town;
    double.state.requireUpToDate = true;
    const runsBefore = double.state.runs.size;
    const pullsBefore = new Set(double.state.pulls.keys());
    const body = [
      'Three siblings; the second conflicts with the first.',
      '',
      task('Write p to shared.txt', `printf 'p\\n' > shared.txt`),
      task(
        'Write q to shared.txt',
        `if grep -q '^<<<<<<<' shared.txt; then printf 'p\\nq\\n' > shared.txt; else printf 'q\\n' > shared.txt; fi`,
      ),
      task('Write r.txt', `echo r >> r.txt`),
    ].join('\n');
    const goal = double.openIssue(MAINTAINER, 'Siblings', body);
    try {
      double.addLabel(MAINTAINER, goal, 'gastown:mayor');
      await double.until(
        'three runs and their pull requests',
        () => runsDone(double, runsBefore + 3) && double.state.pulls.size === pullsBefore.size + 3,
        240_000,
      );
      await double.quiet();
      const mine = [...double.state.pulls.values()].filter((p) => !pullsBefore.has(p.number));
      const pullOf = (word: string) => mine.find((p) => p.title.includes(word))!;
      const [p, q, r] = [pullOf('Write p'), pullOf('Write q'), pullOf('Write r')] as [PullRecord, PullRecord, PullRecord];
      const qBefore = (await double.repo.sha(`refs/heads/${q.head}`))!;
      const rBefore = (await double.repo.sha(`refs/heads/${r.head}`))!;

      expect((await double.mergePullRequest(MAINTAINER, p.number)).status).toBe(200);
      await double.until('a rebase round for q and r', () => runsDone(double, runsBefore + 5), 240_000);
      await double.quiet();
      const main = (await double.repo.sha('refs/heads/main'))!;

      // q conflicted: its polecat resolved it on top of main, same pull request, not a counted round.
      const qTip = (await double.repo.sha(`refs/heads/${q.head}`))!;
      expect(qTip).not.toBe(qBefore);
      expect(await double.repo.isAncestor(main, qTip)).toBe(true);
      expect(await double.repo.readFile('shared.txt', q.head)).toBe('p\nq\n');
      // r was only behind: rebased and pushed by the runner, the agent never ran (r.txt has one line).
      const rTip = (await double.repo.sha(`refs/heads/${r.head}`))!;
      expect(rTip).not.toBe(rBefore);
      expect(await double.repo.isAncestor(main, rTip)).toBe(true);
      expect(await double.repo.readFile('r.txt', r.head)).toBe('r\n');
      const said = [...double.state.comments.values()].filter((c) => c.issue === r.number && c.body.includes('gastown:rebased'));
      expect(said).toHaveLength(1);
      expect(said[0]!.body).toContain('the agent did not run');
      const beads = (await remoteLedger(double)).beads;
      for (const pull of [q, r]) expect(beads.find((b) => b.pr?.number === pull.number)).toMatchObject({ status: 'in_review' });
      expect(beads.filter((b) => b.pr && [q.number, r.number].includes(b.pr.number)).map((b) => b.revisions ?? 0)).toEqual([0, 0]);

      // Redelivered merge: nothing more. Then both merge (r is behind again after q: another clean rebase) and the convoy lands.
      const closed = double.webhooks.deliveries.find(
        (d) => d.event === 'pull_request' && d.action === 'closed' && d.body.includes(`"number":${p.number},`),
      );
      if (closed) double.webhooks.redeliver(closed.id);
      await double.quiet();
      expect(double.state.runs.size).toBe(runsBefore + 5);
      double.state.requireUpToDate = false;
      await mergeUntilLanded(double, goal);
      expect(await double.repo.readFile('shared.txt', 'main')).toBe('p\nq\n');
      expect(await double.repo.readFile('r.txt', 'main')).toBe('r\n');
    } catch (err) {
      console.error(town.app.log().slice(-20_000));
      for (const run of double.state.runs.values()) if (run.conclusion !== 'success') console.error(run.displayTitle, run.steps);
      throw err;
    } finally {
      double.state.requireUpToDate = false;
    }
  }, 600_000);
});
