/**
 * Issue 13 part 4 and issue 15 part 2 on the double with the real app: a dispatched run's
 * claim is on the repository's ledger before its agent starts; a nudge sent with `gt nudge`
 * from a person's clone reaches the running polecat (the script agent reads the inbox file
 * its prompt names); `/gt stop` on the parent issue stops a running polecat at its next
 * checkpoint with its work pushed and no pull request opened.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../helpers/temp-repo.js';
import { gtx } from '../runner/run-gt-lazy.js';
import { MAINTAINER, REPO_CONFIG, buildForTown, remoteLedger, startGithubTown, type GithubTown } from './github-town.js';

/** A goal of one task whose fenced steps are the given scripts. */
function goal(title: string, ...steps: string[]): string {
  return [title, '', `- [ ] ${title}`, ...steps.flatMap((s) => ['  ```sh', `  ${s}`, '  ```'])].join('\n');
}

describe('a running polecat hears the town (on the double)', () => {
  let town: GithubTown;

  beforeAll(async () => {
    await buildForTown();
    town = await startGithubTown({ config: REPO_CONFIG });
    // The runs sync every 300 ms instead of every 30 s.
    town.double.state.variables.set('GASTOWN_SYNC_MS', '300');
  }, 300_000);
  afterAll(async () => {
    await town?.stop();
  });

  /** The one bead of the convoy planned from `issue`, once its claim is on the repository's ledger. */
  async function claimedBead(issue: number): Promise<{ id: string; polecat: string }> {
    let found: { id: string; polecat: string } | null = null;
    await town.double.until(
      'the claim on the remote ledger',
      async () => {
        const { convoys, beads } = await remoteLedger(town.double);
        const convoy = convoys.find((c) => c.source?.issue?.number === issue);
        const bead = beads.find((b) => convoy?.beads.includes(b.id) && b.status === 'in_progress');
        if (bead) found = { id: bead.id, polecat: bead.assignee! };
        return !!bead;
      },
      120_000,
    );
    return found!;
  }

  it('a nudge sent with gt nudge reaches the polecat while its run works', async () => {
    const { double } = town;
    const issue = double.openIssue(
      MAINTAINER,
      'Listen',
      goal(
        'Write down what you hear',
        // Up to 90 s for the word, then keep what arrived.
        'for i in $(seq 1800); do grep -q "turn left" "$GASTOWN_INBOX" && break; sleep 0.05; done; cp "$GASTOWN_INBOX" heard.txt',
      ),
    );
    double.addLabel(MAINTAINER, issue, 'gastown:mayor');
    const { id, polecat } = await claimedBead(issue);

    // A person's own clone of the repository: `gt nudge`, then `gt sync` publishes it.
    const clone = join(town.dir, 'ada-clone');
    git(town.dir, ['clone', '-q', double.repo.url, clone]);
    expect((await gtx(clone, ['sync'])).code).toBe(0);
    expect((await gtx(clone, ['nudge', polecat, 'turn', 'left'], { GT_ACTOR: MAINTAINER })).code).toBe(0);
    expect((await gtx(clone, ['sync'])).code).toBe(0);

    await double.until(
      'the pull request',
      () => [...double.state.pulls.values()].some((p) => p.head === `polecat/${polecat}/${id}`),
      120_000,
    );
    const heard = await double.repo.readFile('heard.txt', `refs/heads/polecat/${polecat}/${id}`);
    expect(heard).toMatch(new RegExp(`^--- nudge from ${MAINTAINER} \\(.+\\) ---\\nturn left\\n`));
  }, 300_000);

  it('/gt stop stops a running polecat at its next checkpoint, with its work pushed', async () => {
    const { double } = town;
    const issue = double.openIssue(MAINTAINER, 'Stop me', goal('Two slow steps', 'echo one > one.txt; sleep 8', 'echo two > two.txt'));
    double.addLabel(MAINTAINER, issue, 'gastown:mayor');
    const { id, polecat } = await claimedBead(issue);
    const pullsBefore = double.state.pulls.size;

    double.comment(MAINTAINER, issue, '/gt stop');
    const stopAt = Date.now();
    const branch = `refs/heads/polecat/${polecat}/${id}`;
    await double.until(
      'the run to end',
      () => [...double.state.runs.values()].filter((r) => r.inputs.bead === id).every((r) => r.status === 'completed'),
      120_000,
    );
    await double.quiet();

    const run = [...double.state.runs.values()].find((r) => r.inputs.bead === id)!;
    const said = run.steps.map((x) => `${x.name} (${x.code}):\n${x.output}`).join('\n');
    // The first step's checkpoint is pushed; the second step never ran; no pull request.
    console.info(`stop: ${Date.now() - stopAt} ms from the comment to the run's end`);
    expect(said).toContain('stopping at the next checkpoint: convoy');
    expect(await double.repo.readFile('one.txt', branch)).toBe('one\n');
    expect(await double.repo.readFile('two.txt', branch)).toBeNull();
    expect(double.state.pulls.size).toBe(pullsBefore);
    const { convoys, beads } = await remoteLedger(double);
    expect(convoys.find((c) => c.beads.includes(id))?.status).toBe('stopped');
    expect(beads.find((b) => b.id === id)?.status).toBe('open');
    expect(run.conclusion, said).toBe('success');
  }, 300_000);
});
