/**
 * Two rows of the loop that only nock tests covered, on the double with the real app and one
 * town for both: the approval gate (a repository that asks for approval gets a plan and
 * nothing else until a writer approves; a non-writer's approval changes nothing; then the
 * loop runs), and a polecat run that dies before its first sync (the app learns it from
 * `workflow_run.completed`, slings the bead anew and dispatches another run).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { renderWorkflow } from '../../src/forge/polecat-workflow.js';
import { MAINTAINER, REPO_CONFIG, buildForTown, mergeUntilLanded, remoteLedger, startGithubTown, type GithubTown } from './github-town.js';

const GATED_CONFIG = `${REPO_CONFIG}requireApproval: true\n`;

/** Two independent script tasks (one wave), each adding one file. */
function goalBody(...names: string[]): string {
  return ['Small and independent.', '', ...names.flatMap((n) => [`- [ ] Add ${n}.txt`, '  ```sh', `  echo ${n} > ${n}.txt`, '  ```'])].join(
    '\n',
  );
}

/** The polecat workflow with a first step that loses the runner once per bead, before anything else runs. */
function workflowLosingFirstRuns(): string {
  // As gt install-workflow writes it: the template holds a placeholder where the pinned action goes.
  const workflow = parse(renderWorkflow());
  const job = Object.values(workflow.jobs as Record<string, { steps: unknown[] }>)[0]!;
  job.steps.unshift({
    name: 'The runner is lost (the first run of each bead)',
    run: [
      'lost="${{ vars.LOST_RUNNERS }}/${{ inputs.bead }}"',
      'mkdir -p "${{ vars.LOST_RUNNERS }}"',
      'if [ ! -e "$lost" ]; then touch "$lost"; echo "runner lost" >&2; exit 1; fi',
      '',
    ].join('\n'),
  });
  return stringify(workflow);
}

describe('the GitHub loop: approval gate and a run that dies early', () => {
  let town: GithubTown;

  beforeAll(async () => {
    await buildForTown();
    town = await startGithubTown({ config: GATED_CONFIG });
  }, 300_000);
  afterAll(async () => {
    await town?.stop();
  });

  const dump = (err: unknown) => {
    console.error(town.app.log().slice(-20_000));
    for (const run of town.double.state.runs.values()) if (run.conclusion !== 'success') console.error(run.displayTitle, run.steps);
    throw err;
  };

  it("a repository that asks for approval: the plan is posted, nothing runs until a writer approves; a reader's approval is refused; then the loop lands", async () => {
    const { double } = town;
    const goal = double.openIssue(MAINTAINER, 'Two files, approved first', goalBody('alpha', 'beta'));
    const comments = () => [...double.state.comments.values()].filter((c) => c.issue === goal);
    const status = () => comments().find((c) => c.body.includes('<!-- gastown:convoy '));
    try {
      double.addLabel(MAINTAINER, goal, 'gastown:mayor');
      await double.until('the plan awaiting approval', () => !!status());
      await double.quiet();

      // The plan, and nothing else: no child issue, no dispatch, a convoy waiting in the ledger.
      expect(status()!.body).toContain('/gt approve');
      expect(double.state.issues.get(goal)!.subIssues).toEqual([]);
      expect(double.count('POST', /\/dispatches$/)).toBe(0);
      expect(double.state.runs.size).toBe(0);
      expect((await remoteLedger(double)).convoys[0]).toMatchObject({ status: 'awaiting_approval', approved: false });

      // Mallory (read access) approves: one polite refusal, still nothing.
      double.comment('mallory', goal, '/gt approve');
      await double.until('the refusal', () => comments().some((c) => c.body.includes('@mallory')));
      await double.quiet();
      expect(comments().find((c) => c.body.includes('@mallory'))!.body).toBe(
        'Sorry @mallory, only people with write access to this repository can approve a plan.',
      );
      expect(double.state.issues.get(goal)!.subIssues).toEqual([]);
      expect(double.state.runs.size).toBe(0);
      expect((await remoteLedger(double)).convoys[0]!.status).toBe('awaiting_approval');

      // Ada (write access) approves: the child issues, the runs, the pull requests; merged, it lands.
      double.comment(MAINTAINER, goal, '/gt approve');
      await double.until('the approved plan on GitHub', () => double.state.issues.get(goal)!.subIssues.length === 2, 120_000);
      await mergeUntilLanded(double, goal);
      await double.until('the landing in the ledger', async () => (await remoteLedger(double)).convoys[0]?.status === 'landed');
      await double.quiet(1000);
    } catch (err) {
      dump(err);
    }

    const convoy = (await remoteLedger(double)).convoys[0]!;
    expect(convoy).toMatchObject({ status: 'landed', approved: true, approvedBy: MAINTAINER });
    expect(double.state.issues.get(goal)).toMatchObject({ state: 'closed' });
    expect([...double.state.runs.values()].map((r) => r.conclusion)).toEqual(['success', 'success']);
    expect(await double.repo.readFile('alpha.txt')).toBe('alpha\n');
    expect(await double.repo.readFile('beta.txt')).toBe('beta\n');
    expect(status()!.body).toContain('**Status:** landed');
  }, 400_000);

  it('a polecat run that dies before its first sync: the app learns it from workflow_run.completed, slings the bead anew and a second run finishes it', async () => {
    const { double } = town;
    // The maintainer drops the approval gate and (for this test) a workflow whose runner is
    // lost at the first run of each bead, before checkout: nothing of that run reaches the ledger.
    double.state.variables.set('LOST_RUNNERS', join(town.dir, 'lost-runners'));
    await double.repo.commitFiles(
      { '.github/gastown.yml': REPO_CONFIG, '.github/workflows/gastown-polecat.yml': workflowLosingFirstRuns() },
      'Polecat workflow on a flaky runner',
    );
    const runsBefore = double.state.runs.size;
    const goal = double.openIssue(MAINTAINER, 'One file, on a flaky runner', goalBody('gamma'));
    let bead = '';
    try {
      double.addLabel(MAINTAINER, goal, 'gastown:mayor');
      await double.until('a second run for the bead', () => double.state.runs.size >= runsBefore + 2, 120_000);
      await mergeUntilLanded(double, goal);
      await double.until('the landing in the ledger', async () =>
        (await remoteLedger(double)).convoys.some((c) => c.source?.issue?.number === goal && c.status === 'landed'),
      );
      await double.quiet(1000);
    } catch (err) {
      dump(err);
    }

    const [child] = double.state.issues.get(goal)!.subIssues.map((n) => double.state.issues.get(n)!);
    bead = /<!-- gastown:bead (gt-[0-9a-z]+) -->/.exec(child!.body ?? '')![1]!;
    const runs = [...double.state.runs.values()].filter((r) => r.inputs.bead === bead);
    // The first run died at its first step: no checkout, no `gt` ran but the `always()`
    // publish step, which had no rig to publish; the second run did the work.
    expect(runs.map((r) => r.conclusion)).toEqual(['failure', 'success']);
    expect(runs[0]!.steps[0]!.name).toBe('The runner is lost (the first run of each bead)');
    expect(runs[0]!.steps.filter((step) => step.code === 0)).toEqual([]);
    expect(runs[1]!.startedMs!).toBeGreaterThanOrEqual(runs[0]!.endedMs!);
    // One pull request, from the second run, merged; the issue closed; the convoy landed.
    const pulls = [...double.state.pulls.values()].filter((p) => p.body?.startsWith(`Closes #${child!.number}\n`));
    expect(pulls).toHaveLength(1);
    expect(pulls[0]).toMatchObject({ merged: true });
    expect(child).toMatchObject({ state: 'closed' });
    expect(await double.repo.readFile('gamma.txt')).toBe('gamma\n');
    // The ledger: two attempts (the dead run counts as one, the claim of the second is the
    // other), and the dead run is kept on the bead (a redelivered workflow_run.completed
    // then changes nothing).
    const ledger = await remoteLedger(double);
    const recorded = ledger.beads.find((b) => b.id === bead)!;
    expect(recorded).toMatchObject({ status: 'closed', attempts: 2 });
    expect(recorded.labels).toContain(`run-ended:${runs[0]!.id}`);
  }, 400_000);
});
