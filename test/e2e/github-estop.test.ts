/**
 * The emergency stop on GitHub, on the double with the real app: `/gt estop` from a writer
 * cancels the polecats' in-flight workflow runs and stops every dispatch; from anyone else it
 * is refused; `/gt estop release` dispatches the beads again.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAINTAINER, buildForTown, startGithubTown, type GithubTown } from './github-town.js';

let town: GithubTown | null = null;

beforeAll(buildForTown, 300_000);
afterEach(async () => {
  await town?.stop();
  town = null;
});

// Two independent beads whose one step outlasts the test: their runs are in progress until cancelled.
const SLOW_GOAL = [
  'Two slow chores.',
  '',
  '- [ ] Slow chore one',
  '  ```sh',
  '  sleep 120',
  '  ```',
  '- [ ] Slow chore two',
  '  ```sh',
  '  sleep 120',
  '  ```',
].join('\n');

describe('the emergency stop on GitHub', () => {
  it('/gt estop cancels the in-flight polecat runs and dispatches nothing until /gt estop release', async () => {
    town = await startGithubTown();
    const { double } = town;
    const dispatches = () => double.count('POST', /\/actions\/workflows\/gastown-polecat\.yml\/dispatches$/);
    const goal = double.openIssue(MAINTAINER, 'Slow chores', SLOW_GOAL);
    double.addLabel(MAINTAINER, goal, 'gastown:mayor');
    await double.until(
      'two polecat runs in progress',
      () => [...double.state.runs.values()].filter((r) => r.status === 'in_progress').length === 2,
      120_000,
    );
    expect(dispatches()).toBe(2);

    // Someone without write access cannot press it.
    double.comment('mallory', goal, '/gt estop');
    await double.until('the refusal', () => [...double.state.comments.values()].some((c) => c.body.includes('Sorry @mallory')), 30_000);
    expect([...double.state.runs.values()].every((r) => r.status === 'in_progress')).toBe(true);

    double.comment(MAINTAINER, goal, '/gt estop');
    await double.until('both runs cancelled', () => [...double.state.runs.values()].every((r) => r.status === 'completed'), 60_000);
    await double.quiet();
    expect([...double.state.runs.values()].map((r) => r.conclusion)).toEqual(['cancelled', 'cancelled']);
    const said = [...double.state.comments.values()].map((c) => c.body);
    expect(said.find((b) => b.startsWith('Emergency stop engaged'))).toBe(
      `Emergency stop engaged by @${MAINTAINER}: nothing more is slung or dispatched, and 2 polecat runs were cancelled. \`/gt estop release\` resumes.`,
    );
    // The cancelled runs' completions came in, and nothing was dispatched for them.
    expect(dispatches()).toBe(2);
    expect(double.count('POST', /\/actions\/runs\/\d+\/cancel$/)).toBe(2);

    double.comment(MAINTAINER, goal, '/gt estop release');
    await double.until(
      'the beads dispatched again and the release said',
      () =>
        dispatches() === 4 &&
        [...double.state.comments.values()].some((c) => c.body.startsWith(`Emergency stop released by @${MAINTAINER}`)),
      60_000,
    );

    // Stop again so the town shuts down without waiting for the slow steps.
    double.comment(MAINTAINER, goal, '/gt estop');
    await double.until('the new runs cancelled', () => [...double.state.runs.values()].every((r) => r.status === 'completed'), 60_000);
    await double.quiet();
    expect(dispatches()).toBe(4);
  }, 400_000);
});
