/**
 * Budgets from `.github/gastown.yml` on GitHub, with the real app on the double: a plan that
 * names no budget gets the repository's default, capped by its maximum, and the status
 * comment shows it.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAINTAINER, REPO_CONFIG, buildForTown, remoteLedger, startGithubTown, type GithubTown } from './github-town.js';

let town: GithubTown | null = null;

beforeAll(buildForTown, 300_000);
afterEach(async () => {
  await town?.stop();
  town = null;
});

const GOAL = ['One small note.', '', '- [ ] Add a note', '  ```sh', '  echo "a note" > note.txt', '  ```'].join('\n');

describe('.github/gastown.yml budget and maxConvoyBudget', () => {
  it("a planned convoy gets the repository's default budget, capped by its maximum, shown in the status comment", async () => {
    town = await startGithubTown({ config: `${REPO_CONFIG}budget: "$9, 500k"\nmaxConvoyBudget: "$5"\n` });
    const { double } = town;
    const goal = double.openIssue(MAINTAINER, 'A note', GOAL);
    double.addLabel(MAINTAINER, goal, 'gastown:mayor');
    await double.until(
      'the status comment with the budget',
      () => [...double.state.comments.values()].some((c) => c.issue === goal && c.body.includes('**Spent by polecats:**')),
      120_000,
    );
    const status = [...double.state.comments.values()].find((c) => c.issue === goal && c.body.includes('**Spent by polecats:**'))!;
    expect(status.body).toMatch(/\*\*Spent by polecats:\*\* \$0\.00 of \$5\.00 \(0 of 500000 tokens\)/);
    // The default was capped quietly: only a plan asking more says it was clamped.
    expect(status.body).not.toContain('Budget clamped');
    const { convoys } = await remoteLedger(double);
    expect(convoys.map((c) => c.budget)).toEqual([{ usd: 5, tokens: 500_000 }]);
    await double.quiet();
  }, 300_000);
});
