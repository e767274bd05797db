/**
 * A pull request closed without merging, on the double with the real app and runs: its branch
 * is kept while the bead waits to be slung again, the new run starts afresh from the default
 * branch (the rejected work is not its base) and replaces the old branch safely, and once the
 * convoy lands no polecat branch is left on the repository, the rejected one included.
 */
import { execFileSync } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TEST_GIT_ENV } from '../helpers/temp-repo.js';
import {
  MAINTAINER,
  beadOfPull,
  buildForTown,
  mergeUntilLanded,
  pullsReadyToMerge,
  startGithubTown,
  type GithubTown,
} from './github-town.js';

let town: GithubTown | null = null;

beforeAll(buildForTown, 300_000);
afterEach(async () => {
  await town?.stop();
  town = null;
});

const GOAL = ['One small note.', '', '- [ ] Add a note', '  ```sh', '  echo "a note" > note.txt', '  ```'].join('\n');

describe('a polecat pull request closed unmerged', () => {
  it('the bead is slung again on a fresh branch that replaces the rejected one; the landed convoy leaves no polecat branch', async () => {
    town = await startGithubTown();
    const { double } = town;
    const git = (args: string[]) => execFileSync('git', args, { cwd: double.repo.path, env: TEST_GIT_ENV, encoding: 'utf8' }).trim();
    const polecatBranches = () =>
      git(['for-each-ref', '--format=%(refname:short)', 'refs/heads/'])
        .split('\n')
        .filter((b) => b.startsWith('polecat/'));

    const goal = double.openIssue(MAINTAINER, 'A note', GOAL);
    double.addLabel(MAINTAINER, goal, 'gastown:mayor');
    await double.until('the first pull request, its run finished', () => pullsReadyToMerge(double).length === 1, 180_000);
    const first = pullsReadyToMerge(double)[0]!;
    const bead = beadOfPull(first)!;
    const rejectedTip = first.headSha;

    const closed = await double.closePullRequest(MAINTAINER, first.number);
    expect(closed.status).toBe(200);
    await double.until(
      'a second pull request for the bead, its run finished',
      () => pullsReadyToMerge(double).some((p) => p.number !== first.number && beadOfPull(p) === bead),
      180_000,
    );
    const second = pullsReadyToMerge(double).find((p) => p.number !== first.number)!;
    // The new run started from the default branch: the rejected commits are not in its branch.
    const isAncestor = (a: string, b: string) => {
      try {
        git(['merge-base', '--is-ancestor', a, b]);
        return true;
      } catch {
        return false;
      }
    };
    expect(isAncestor(rejectedTip, second.headSha)).toBe(false);
    expect(isAncestor(git(['rev-parse', 'main']), second.headSha)).toBe(true);
    // Only the new run's branch is there: the rejected one was replaced (same name) or deleted.
    expect(polecatBranches()).toEqual([second.head]);

    await mergeUntilLanded(double, goal);
    await double.quiet();
    expect(polecatBranches()).toEqual([]);
  }, 400_000);
});
