/**
 * Two replicas of the app (two processes, each its own GASTOWN_DATA_DIR) on one GitHub
 * double and one repository, every webhook delivered to both at the same moment: the
 * repository's lease on the remote lets one plan, materialise and dispatch while the other
 * waits, then finds the work done. Polecat runs are held at a gate (a workflow whose step
 * waits for a file), so each dispatched run stays visible and countable.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { convoyIdFor } from '../../src/rig/record-plan.js';
import { githubSourceKey } from '../../src/github/github-keys.js';
import { convoyMarker } from '../../src/town/ids.js';
import type { GitHubDouble } from '../support/github-double/github-double.js';
import { TEST_GIT_ENV } from '../helpers/temp-repo.js';
import { MAINTAINER, OWNER, REPO, buildForTown, remoteLedger, startGithubTown, type GithubTown } from './github-town.js';

let town: GithubTown | null = null;
let gate: string | null = null;

beforeAll(buildForTown, 300_000);
afterEach(async () => {
  // Opens the gate so held runs end, after the apps are gone (their workflow_run events then reach no one).
  const stopping = town?.stop();
  if (gate) writeFileSync(gate, 'open');
  await stopping;
  town = null;
});

/** A polecat workflow whose run waits at the gate instead of working. */
function gatedWorkflow(gatePath: string): string {
  return [
    'name: gastown-polecat',
    'run-name: gastown-polecat ${{ inputs.bead }}',
    'on:',
    '  workflow_dispatch:',
    '    inputs:',
    '      bead:',
    '        required: true',
    'jobs:',
    '  polecat:',
    '    steps:',
    `      - run: while [ ! -e "${gatePath}" ]; do sleep 0.2; done`,
    '',
  ].join('\n');
}

const CONFIG = ['planner: checklist', 'concurrency: 32', ''].join('\n');
const BODY = ['Two steps, the second after the first.', '', '- [ ] Add the min operation', '- [ ] Document min (after 1)'].join('\n');

/** Nothing in flight and no API request for `ms`: both replicas are done (runs wait at the gate). */
async function settled(double: GitHubDouble, ms = 1500): Promise<void> {
  await double.until(
    'both replicas to be done',
    () => double.webhooks.inFlight === 0 && Date.now() - (double.requests.at(-1)?.at ?? 0) > ms,
    120_000,
  );
}

async function dumpOnFailure<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    for (const [i, app] of (town?.apps ?? []).entries()) console.error(`--- replica ${i}\n${app.log().slice(-8000)}`);
    throw err;
  }
}

describe('two app replicas on one repository', () => {
  it('the same labelled issue reaching both at once, 20 times: one convoy, one set of child issues and one run per ready bead every time', async () => {
    const dir = join('/tmp/replicas-gates', `gate-${process.pid}-${Date.now()}`);
    mkdirSync(dir, { recursive: true });
    gate = join(dir, 'open');
    // Over smart HTTP, as against GitHub: the replicas' syncs and the repository's lease go
    // through the mirrors' in-process client (ledger/smart-http.ts), not git.
    town = await startGithubTown({
      replicas: 2,
      gitOverHttp: true,
      config: CONFIG,
      files: { '.github/workflows/gastown-polecat.yml': gatedWorkflow(gate) },
    });
    const { double } = town;
    await dumpOnFailure(async () => {
      const goals: number[] = [];
      for (let i = 1; i <= 20; i++) {
        const goal = double.openIssue(MAINTAINER, `calc: min, take ${i}`, BODY);
        double.addLabel(MAINTAINER, goal, 'gastown:mayor');
        goals.push(goal);
        const marker = convoyMarker(convoyIdFor(githubSourceKey(`${OWNER}/${REPO}`, goal)));
        await double.until(
          `issue #${goal} planned, mirrored and dispatched`,
          () =>
            [...double.state.comments.values()].some((c) => c.issue === goal && c.body.includes(marker)) &&
            double.state.issues.get(goal)!.subIssues.length >= 2 &&
            double.state.runs.size >= i,
          60_000,
        );
        await settled(double);

        const parent = double.state.issues.get(goal)!;
        const children = [...double.state.issues.values()].filter((x) => x.parent === goal);
        expect(children.map((c) => c.title).sort(), `children of #${goal}`).toEqual(['Add the min operation', 'Document min'].sort());
        expect(parent.subIssues).toHaveLength(2);
        expect(double.state.runs.size, `runs after #${goal}`).toBe(i);
        expect([...double.state.comments.values()].filter((c) => c.issue === goal && c.body.includes(marker))).toHaveLength(1);
      }

      // Every convoy once in the repository's ledger, two beads each; one run per ready bead, none twice.
      const ledger = await remoteLedger(double);
      expect(ledger.convoys).toHaveLength(20);
      expect(ledger.beads).toHaveLength(40);
      for (const goal of goals) {
        const convoys = ledger.convoys.filter((c) => c.source?.issue?.number === goal);
        expect(convoys, `convoys of #${goal}`).toHaveLength(1);
        expect(convoys[0]!.beads).toHaveLength(2);
      }
      const bot = [...double.state.issues.values()].filter((x) => x.user.login === 'gastown[bot]');
      expect(bot).toHaveLength(40);
      const runs = [...double.state.runs.values()].map((r) => r.inputs.bead);
      const ready = ledger.beads.filter((b) => b.blockedBy.length === 0).map((b) => b.id);
      expect([...runs].sort()).toEqual([...ready].sort());

      // Both replicas got every label; each time one of them waited for the other's lease.
      for (const app of town!.apps) expect(app.log().split('Handled Mayor label').length - 1).toBe(20);
      const waits = town!.apps.map((a) => a.log().split('Waiting for another replica').length - 1);
      expect(waits[0]! + waits[1]!).toBeGreaterThanOrEqual(20);
      // Every lease take and give-back, fetch and push was a request of the in-process client.
      expect(double.gitRequests.filter((r) => r.agent === 'git/gastown' && r.service === 'git-receive-pack').length).toBeGreaterThan(40);
      const fallbacks = double.gitRequests.filter((r) => r.actor === null).length;
      expect(fallbacks).toBeLessThan(double.gitRequests.filter((r) => r.agent === 'git/gastown').length / 10);
    });
    expect(existsSync(gate)).toBe(false);
  }, 600_000);

  it('a replica that dies holding the lease: the other waits it out, takes it over and finishes the plan', async () => {
    const dir = join('/tmp/replicas-gates', `gate-${process.pid}-${Date.now()}`);
    mkdirSync(dir, { recursive: true });
    gate = join(dir, 'open');
    town = await startGithubTown({
      replicas: 2,
      config: CONFIG,
      files: { '.github/workflows/gastown-polecat.yml': gatedWorkflow(gate) },
      env: { GASTOWN_LEASE_TTL_MS: '3000' },
    });
    const { double } = town;
    const [first, second] = town.apps as [(typeof town.apps)[0], (typeof town.apps)[0]];
    await dumpOnFailure(async () => {
      // Only the first replica gets the label; it dies the moment its lease is on the remote.
      double.webhooks.alsoTo = [];
      const goal = double.openIssue(MAINTAINER, 'calc: min, after a crash', BODY);
      double.addLabel(MAINTAINER, goal, 'gastown:mayor');
      const labelled = double.webhooks.deliveries.at(-1)!;
      const leaseRef = 'refs/gastown-leases/app';
      const leaseOf = () => {
        try {
          return JSON.parse(
            execFileSync('git', ['log', '-1', '--format=%B', leaseRef], {
              cwd: double.repo.path,
              env: TEST_GIT_ENV,
              encoding: 'utf8',
              stdio: ['ignore', 'pipe', 'ignore'],
            }),
          ) as { holder: string; expiresAt: string };
        } catch {
          return null;
        }
      };
      let dead: { holder: string; expiresAt: string } | null = null;
      await double.until('the first replica to take the lease', () => (dead = leaseOf()) !== null, 30_000);
      process.kill(first.pid, 'SIGKILL');
      expect(dead).not.toBeNull();

      // The redelivery reaches the second replica, which must wait for the dead one's lease to expire.
      double.webhookUrl = second.webhookUrl;
      const sentAt = Date.now();
      double.webhooks.redeliver(labelled.id);
      const marker = convoyMarker(convoyIdFor(githubSourceKey(`${OWNER}/${REPO}`, goal)));
      await double.until(
        'the second replica to finish the plan',
        () => [...double.state.comments.values()].some((c) => c.issue === goal && c.body.includes(marker)) && double.state.runs.size === 1,
        60_000,
      );
      await settled(double);
      // Nothing of the plan reached GitHub before the dead replica's lease ran out (seconds, as GitHub stamps them).
      const status = [...double.state.comments.values()].find((c) => c.issue === goal && c.body.includes(marker))!;
      expect(Date.parse(status.createdAt)).toBeGreaterThanOrEqual(Math.floor(Date.parse(dead!.expiresAt) / 1000) * 1000);
      expect(Date.parse(dead!.expiresAt)).toBeGreaterThan(sentAt);
      expect(second.log()).toContain('Took over the repository lease of a replica that stopped renewing it');
      expect(second.log()).toContain(dead!.holder);

      const children = [...double.state.issues.values()].filter((x) => x.parent === goal);
      expect(children.map((c) => c.title).sort()).toEqual(['Add the min operation', 'Document min'].sort());
      const ledger = await remoteLedger(double);
      expect(ledger.convoys).toHaveLength(1);
      expect(ledger.convoys[0]!.beads).toHaveLength(2);
      expect([...double.state.runs.values()].map((r) => r.inputs.bead)).toEqual(
        ledger.beads.filter((b) => b.blockedBy.length === 0).map((b) => b.id),
      );
      // The second replica gave the lease back when it was done.
      expect(leaseOf()).toBeNull();
    });
  }, 300_000);
});
