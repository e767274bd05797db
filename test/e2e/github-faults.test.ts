/**
 * The GitHub loop when GitHub misbehaves or people change their minds, on the double with
 * the real app: a redelivered webhook, GitHub failing in the middle of materialising (5xx,
 * an answer lost after the write, a secondary rate limit), and a pull request closed
 * without merging.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GOAL_BODY, GOAL_TITLE, MAINTAINER, beadOfPull, buildForTown, startGithubTown, type GithubTown } from './github-town.js';
import type { GitHubDouble } from '../support/github-double/github-double.js';

let town: GithubTown | null = null;

beforeAll(buildForTown, 300_000);
afterEach(async () => {
  await town?.stop();
  town = null;
});

function label(double: GitHubDouble): number {
  const goal = double.openIssue(MAINTAINER, GOAL_TITLE, GOAL_BODY);
  double.addLabel(MAINTAINER, goal, 'gastown:mayor');
  return goal;
}

/** The first wave is up: three pull requests open, their runs finished, the app done with them. */
async function firstWave(double: GitHubDouble): Promise<void> {
  await double.until(
    'the first wave of pull requests',
    () =>
      [...double.state.pulls.values()].filter((p) => p.state === 'open').length === 3 &&
      [...double.state.runs.values()].every((r) => r.status === 'completed'),
    180_000,
  );
  await double.quiet();
}

/** What the app has written on GitHub so far (issues, sub-issue links and edges as GitHub holds them). */
function writes(double: GitHubDouble) {
  const issues = [...double.state.issues.values()].filter((i) => !double.state.pulls.has(i.number));
  return {
    issues: issues.filter((i) => i.user.login === 'gastown[bot]').length,
    subIssues: issues.reduce((n, i) => n + i.subIssues.length, 0),
    edges: issues.reduce((n, i) => n + i.blockedBy.length, 0),
    dispatches: double.requests.filter((r) => r.method === 'POST' && /\/dispatches$/.test(r.path) && r.status === 204).length,
    comments: [...double.state.comments.values()].length,
    runs: double.state.runs.size,
  };
}

async function dumpOnFailure<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const double = town?.double;
    if (process.env.E2E_DUMP && double) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(
        process.env.E2E_DUMP,
        JSON.stringify(
          {
            issues: [...double.state.issues.values()],
            comments: [...double.state.comments.values()],
            runs: [...double.state.runs.values()],
            requests: double.requests,
            log: town!.app.log(),
          },
          null,
          1,
        ),
      );
    } else console.error(town?.app.log().slice(-15_000));
    throw err;
  }
}

describe('the GitHub loop when things go wrong', () => {
  it('a redelivered label or merge event changes nothing on GitHub', async () => {
    town = await startGithubTown();
    const { double } = town;
    await dumpOnFailure(async () => {
      const goal = label(double);
      await firstWave(double);
      const before = writes(double);
      expect(before).toMatchObject({ issues: 5, subIssues: 5, edges: 4, dispatches: 3, runs: 3 });

      const labelled = double.webhooks.deliveries.find(
        (d) => d.event === 'issues' && d.action === 'labeled' && JSON.parse(d.body).label.name === 'gastown:mayor',
      )!;
      const again = double.webhooks.redeliver(labelled.id);
      await double.until('the redelivery', () => again.status !== null);
      await double.quiet();

      expect([200, 202]).toContain(again.status);
      expect(writes(double)).toEqual(before);
      expect(double.state.issues.get(goal)!.labels).not.toContain('gastown:failed');

      // A merge, then the same merge event again: the next bead is dispatched once.
      const add = [...double.state.pulls.values()].find((p) => p.title === 'Add the add operation')!;
      expect((await double.mergePullRequest(MAINTAINER, add.number)).status).toBe(200);
      await double.until('the next wave', () => double.state.runs.size === 4);
      await double.quiet();
      const merged = double.webhooks.deliveries.find((d) => d.event === 'pull_request' && d.action === 'closed')!;
      const mergedAgain = double.webhooks.redeliver(merged.id);
      await double.until('the redelivered merge', () => mergedAgain.status !== null);
      await double.quiet();

      expect([200, 202]).toContain(mergedAgain.status);
      expect(writes(double)).toMatchObject({ issues: 5, dispatches: 4, runs: 4 });
      expect(double.requests.filter((r) => r.status >= 500)).toEqual([]);
    });
  }, 400_000);

  it('GitHub failing in the middle of materialising (5xx): one failure report; the retry by label resumes without duplicates, after an answer lost and a secondary rate limit', async () => {
    town = await startGithubTown();
    const { double } = town;
    await dumpOnFailure(async () => {
      // The child issues cannot be created: GitHub answers 502 to every attempt (the app makes
      // a few, listing the sub-issues again before each, since a 5xx may follow the write).
      double.fault({ method: 'POST', path: /^\/api\/graphql$/, graphql: /createIssue\(/, status: 502, times: 100 });
      const goal = label(double);
      await double.until('the failure report', () => double.state.issues.get(goal)!.labels.includes('gastown:failed'), 120_000);
      await double.quiet();
      double.clearFaults();

      expect(writes(double)).toMatchObject({ issues: 0, dispatches: 0, runs: 0 });
      const status = () => [...double.state.comments.values()].find((c) => c.issue === goal && c.body.includes('<!-- gastown:convoy '))!;
      expect(status().body).toContain('> [!CAUTION]');
      expect(status().body).toContain('HTTP 502');

      // Retried by the label. GitHub now creates the issues but the answer is lost (502 after
      // the write): the app finds them by their markers instead of creating them again. Then
      // it answers the blocked-by edges with a secondary rate limit, which the app waits out
      // (`retry-after`) and retries.
      double.fault({ method: 'POST', path: /^\/api\/graphql$/, graphql: /createIssue\(/, status: 502, executed: true });
      double.fault({ method: 'POST', path: /^\/api\/graphql$/, graphql: /addBlockedBy\(/, status: 403, headers: { 'retry-after': '1' } });
      double.removeLabel(MAINTAINER, goal, 'gastown:mayor');
      double.addLabel(MAINTAINER, goal, 'gastown:mayor');
      await double.until(
        'the plan on GitHub',
        () => double.state.issues.get(goal)!.subIssues.length === 5 && double.state.runs.size === 3,
        120_000,
      );
      await double.quiet();

      const graphql = (field: string) => double.requests.filter((r) => r.graphql?.fields.includes(field));
      expect(graphql('createIssue').map((r) => r.status)).toEqual([502, 502, 502, 502]);
      expect(graphql('addBlockedBy').map((r) => r.status)).toEqual([403, 200]);
      const children = double.state.issues.get(goal)!.subIssues.map((n) => double.state.issues.get(n)!);
      expect(new Set(children.map((c) => c.title)).size).toBe(5);
      expect(
        [...double.state.issues.values()].filter((i) => !double.state.pulls.has(i.number) && i.body?.includes('<!-- gastown:bead ')),
      ).toHaveLength(5);
      expect(writes(double)).toMatchObject({ issues: 5, subIssues: 5, edges: 4, dispatches: 3 });
      expect(double.state.issues.get(goal)!.labels).not.toContain('gastown:failed');
      expect(status().body).not.toContain('[!CAUTION]');
      expect([...double.state.comments.values()].filter((c) => c.issue === goal)).toHaveLength(1);
    });
  }, 400_000);

  it('no scoped token from the app (the OIDC request fails): the job keeps its GITHUB_TOKEN and each pull request says its CI has not run', async () => {
    town = await startGithubTown();
    const { double } = town;
    await dumpOnFailure(async () => {
      double.fault({ method: 'GET', path: /^\/_services\/token\/request/, status: 500, times: 1000 });
      label(double);
      await firstWave(double);

      const pulls = [...double.state.pulls.values()].filter((p) => p.state === 'open');
      expect(pulls).toHaveLength(3);
      for (const pr of pulls) {
        expect(pr.body).toContain("opened with the workflow's `GITHUB_TOKEN`");
        expect(pr.body).toContain('CI has not run');
      }
      expect(double.scopedTokens).toEqual([]);
    });
  }, 400_000);

  it('a pull request closed without merging sends its bead back: a new run opens a new pull request', async () => {
    town = await startGithubTown();
    const { double } = town;
    await dumpOnFailure(async () => {
      label(double);
      await firstWave(double);
      const rejected = [...double.state.pulls.values()].find((p) => p.title === 'Add the sub operation')!;
      const bead = beadOfPull(rejected)!;
      const child = [...double.state.issues.values()].find((i) => i.body?.includes(`<!-- gastown:bead ${bead} -->`))!;

      expect((await double.closePullRequest(MAINTAINER, rejected.number)).status).toBe(200);
      await double.until(
        'a new pull request for the bead',
        () => [...double.state.pulls.values()].some((p) => p.state === 'open' && beadOfPull(p) === bead && p.number !== rejected.number),
        180_000,
      );
      await double.quiet();

      const again = [...double.state.pulls.values()].find((p) => p.state === 'open' && beadOfPull(p) === bead)!;
      expect(double.state.pulls.get(rejected.number)).toMatchObject({ state: 'closed', merged: false });
      expect(again.body).toMatch(new RegExp(`^Closes #${child.number}\\n`));
      expect(child.state).toBe('open');
      expect([...double.state.runs.values()].filter((r) => r.inputs.bead === bead).map((r) => r.conclusion)).toEqual([
        'success',
        'success',
      ]);
      expect(double.state.runs.size).toBe(4);
    });
  }, 400_000);
});
