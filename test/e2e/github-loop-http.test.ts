/**
 * The loop with git over smart HTTP, as on GitHub: the app (GASTOWN_GIT_URL
 * `http://x-access-token:{token}@…`) and the polecat jobs (their checkout's remote, their
 * token in a header) fetch and push through the double's `git http-backend`, never the
 * bare repository's path. The issue's 6-bead, 2-wave convoy lands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAINTAINER,
  TWO_WAVE_BODY,
  TWO_WAVE_TITLE,
  buildForTown,
  mergeUntilLanded,
  remoteLedger,
  startGithubTown,
  type GithubTown,
} from './github-town.js';

describe('the GitHub loop with git over smart HTTP', () => {
  let town: GithubTown;

  beforeAll(async () => {
    await buildForTown();
    town = await startGithubTown({ gitOverHttp: true });
  }, 300_000);
  afterAll(async () => {
    await town?.stop();
  });

  it('lands a 6-bead, 2-wave convoy with every fetch and push served over HTTP', async () => {
    const { double } = town;
    const goal = double.openIssue(MAINTAINER, TWO_WAVE_TITLE, TWO_WAVE_BODY);
    try {
      double.addLabel(MAINTAINER, goal, 'gastown:mayor');
      await mergeUntilLanded(double, goal);
      await double.until('the landing in the ledger', async () =>
        (await remoteLedger(double)).convoys.some((c) => c.source?.issue?.number === goal && c.status === 'landed'),
      );
      await double.idle();
    } catch (err) {
      console.error(town.app.log().slice(-20_000));
      for (const run of double.state.runs.values()) if (run.conclusion !== 'success') console.error(run.displayTitle, run.steps);
      throw err;
    }

    expect(double.state.issues.get(goal)).toMatchObject({ state: 'closed', stateReason: 'completed' });
    const pulls = [...double.state.pulls.values()];
    expect(pulls).toHaveLength(6);
    for (const pull of pulls) expect(pull).toMatchObject({ merged: true, user: { login: 'gastown[bot]' } });
    expect([...double.state.runs.values()].map((r) => r.conclusion)).toEqual(Array(6).fill('success'));

    const git = double.gitRequests;
    const seen = (service: string, actor: string | null) => git.filter((r) => r.service === service && r.actor === actor).length;
    // The app's reads and pushes, in-process (ledger/smart-http.ts), with its installation
    // token as GitHub wants it; the app starts no git process that reaches the remote.
    const inProcess = git.filter((r) => r.agent === 'git/gastown');
    expect(inProcess.filter((r) => r.service === 'git-upload-pack' && r.actor === 'gastown[bot]').length).toBeGreaterThan(0);
    expect(inProcess.filter((r) => r.service === 'git-receive-pack' && r.actor === 'gastown[bot]').length).toBeGreaterThan(0);
    expect(inProcess.filter((r) => r.actor !== 'gastown[bot]')).toEqual([]);
    expect(git.filter((r) => r.actor === null)).toEqual([]);
    // Each run's checkout (the run's token) and its pushes (the app's scoped token, sent as a header).
    expect(seen('git-upload-pack', 'github-actions[bot]')).toBeGreaterThanOrEqual(6);
    expect(seen('git-receive-pack', 'gastown[bot]')).toBeGreaterThanOrEqual(6);
    expect(git.filter((r) => r.status !== 200)).toEqual([]);
    // The tokens in the app's remote URL stay out of its log.
    expect(town.app.log()).not.toMatch(/x-access-token:(?!\*\*\*@)[^@\s]+@/);
  }, 300_000);
});
