/**
 * The app dies between pushing a sling's dispatch mark and its `workflow_dispatch` call
 * (issue 15): the marks are on the repository's ledger, GitHub has no run. Restarted, the
 * app gets the delivery it died on again (GitHub lists it as failed; it is redelivered):
 * past the grace it finds no run for the marked slings, slings them anew and dispatches
 * them, and the convoy lands with exactly one run per bead.
 */
import { afterEach, beforeAll, expect, it } from 'vitest';
import {
  GOAL_BODY,
  GOAL_TITLE,
  MAINTAINER,
  buildForTown,
  mergeUntilLanded,
  remoteLedger,
  startGithubTown,
  type GithubTown,
} from './github-town.js';

let town: GithubTown | null = null;

beforeAll(buildForTown, 300_000);
afterEach(async () => {
  await town?.stop();
  town = null;
});

it('an app killed between the dispatch marks and the first workflow_dispatch: after a restart each bead gets one run and the convoy lands', async () => {
  town = await startGithubTown({ env: { GASTOWN_LEASE_TTL_MS: '3000', GASTOWN_DISPATCH_GRACE_MS: '1000' } });
  const { double } = town;
  const dead = town.app;
  try {
    // The first dispatch request kills the app before GitHub acts on it.
    double.fault({
      method: 'POST',
      path: /\/actions\/workflows\/[^/]+\/dispatches$/,
      status: 502,
      onStrike: () => void process.kill(dead.pid, 'SIGKILL'),
    });
    const goal = double.openIssue(MAINTAINER, GOAL_TITLE, GOAL_BODY);
    double.addLabel(MAINTAINER, goal, 'gastown:mayor');
    const labelled = double.webhooks.deliveries.find(
      (d) => d.event === 'issues' && d.action === 'labeled' && JSON.parse(d.body).label.name === 'gastown:mayor',
    )!;
    await double.until('the app to die on its first dispatch', () => double.requests.some((r) => /\/dispatches$/.test(r.path)), 120_000);
    await double.until('the delivery to fail', () => labelled.status !== null, 30_000);

    // What the dead app left: the first wave marked on the repository's ledger, no run.
    const marked = (await remoteLedger(double)).beads.filter((b) => b.labels.some((l) => l.startsWith('dispatched:')));
    expect(marked).toHaveLength(3);
    expect(double.state.runs.size).toBe(0);

    const app = await town.restart(0);
    const again = double.webhooks.redeliver(labelled.id);
    await double.until('the first wave dispatched again', () => double.state.runs.size === 3, 120_000);
    expect([200, 202]).toContain(again.status ?? 202);
    expect([...double.state.runs.values()].map((r) => r.inputs.bead).sort()).toEqual(marked.map((b) => b.id).sort());
    expect(app.log()).toContain('A marked dispatch has no run; slung anew to dispatch it again');

    await mergeUntilLanded(double, goal);
    await double.quiet();
    const ledger = await remoteLedger(double);
    expect(ledger.convoys.map((c) => c.status)).toEqual(['landed']);
    const perBead = new Map<string, number>();
    for (const run of double.state.runs.values()) perBead.set(run.inputs.bead!, (perBead.get(run.inputs.bead!) ?? 0) + 1);
    expect([...perBead.keys()].sort()).toEqual(ledger.beads.map((b) => b.id).sort());
    expect([...perBead.values()].every((n) => n === 1)).toBe(true);
    expect(ledger.beads.every((b) => b.status === 'closed')).toBe(true);
  } catch (err) {
    console.error(town.app.log().slice(-15_000));
    throw err;
  }
}, 600_000);
