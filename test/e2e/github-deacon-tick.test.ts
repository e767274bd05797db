/**
 * The Deacon on the app's timer (GASTOWN_DEACON_EVERY_MS): a repository's dispatch pass runs
 * with no webhook arriving. The app dies between pushing its dispatch marks and its first
 * `workflow_dispatch` call and is restarted; GitHub redelivers nothing (it never does by
 * itself), yet the timer finds the marked slings without runs and dispatches them. And a
 * repository whose convoy is not active costs the timer nothing at GitHub.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import {
  GOAL_BODY,
  GOAL_TITLE,
  MAINTAINER,
  REPO_CONFIG,
  buildForTown,
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

const dispatchPath = /\/actions\/workflows\/[^/]+\/dispatches$/;

/** Every file under `dir` with its size and modification time: what a sync or a lease would change. */
function filesUnder(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const st = statSync(path);
    out[path.slice(dir.length)] = `${st.size}@${st.mtimeMs}`;
  }
  return out;
}

/** The app's JSON log lines with this message. */
function logLines(log: string, msg: string): Record<string, unknown>[] {
  return log
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes(msg))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg);
}

it('an app killed between its dispatch marks and its first workflow_dispatch, restarted, and no webhook: the timer dispatches each marked bead once', async () => {
  town = await startGithubTown({
    env: { GASTOWN_LEASE_TTL_MS: '3000', GASTOWN_DISPATCH_GRACE_MS: '1000', GASTOWN_DEACON_EVERY_MS: '500' },
  });
  const { double } = town;
  const dead = town.app;
  try {
    double.fault({ method: 'POST', path: dispatchPath, status: 502, onStrike: () => void process.kill(dead.pid, 'SIGKILL') });
    const goal = double.openIssue(MAINTAINER, GOAL_TITLE, GOAL_BODY);
    double.addLabel(MAINTAINER, goal, 'gastown:mayor');
    await double.until('the app to die on its first dispatch', () => double.requests.some((r) => dispatchPath.test(r.path)), 120_000);
    await double.until('every delivery in flight to end', () => double.webhooks.inFlight === 0, 30_000);

    // What the dead app left: the first wave marked on the repository's ledger, no run.
    const marked = (await remoteLedger(double)).beads.filter((b) => b.labels.some((l) => l.startsWith('dispatched:')));
    expect(marked).toHaveLength(3);
    expect(double.state.runs.size).toBe(0);

    const restartedAt = Date.now();
    const app = await town.restart(0);
    await double.until("the first wave dispatched by the Deacon's timer", () => double.state.runs.size === 3, 120_000);

    expect([...double.state.runs.values()].map((r) => r.inputs.bead).sort()).toEqual(marked.map((b) => b.id).sort());
    // No webhook reached the restarted app before its dispatches: the timer did it alone.
    const firstDispatch = double.requests.find((r) => r.at >= restartedAt && dispatchPath.test(r.path) && r.status < 300)!;
    expect(double.webhooks.deliveries.filter((d) => d.sentAt >= restartedAt && d.sentAt <= firstDispatch.at)).toEqual([]);
    expect(app.log()).toContain('A marked dispatch has no run; slung anew to dispatch it again');
    await double.until("the timer's pass to end", () => app.log().includes('Deacon tick dispatched polecat runs'), 30_000);

    // Later ticks find the runs recorded: still one run per bead.
    await double.until('the wave to finish', () => double.runs.active === 0, 120_000);
    await new Promise((r) => setTimeout(r, 2000));
    const perBead = new Map<string, number>();
    for (const run of double.state.runs.values()) perBead.set(run.inputs.bead!, (perBead.get(run.inputs.bead!) ?? 0) + 1);
    expect([...perBead.values()].every((n) => n === 1)).toBe(true);
  } catch (err) {
    console.error(town.app.log().slice(-15_000));
    throw err;
  }
}, 600_000);

it('a repository whose only convoy awaits approval: the timer ticks and asks GitHub nothing', async () => {
  town = await startGithubTown({
    config: `${REPO_CONFIG}requireApproval: true\n`,
    env: { GASTOWN_DEACON_EVERY_MS: '200', GASTOWN_LEASE_LINGER_MS: '0', LOG_LEVEL: 'debug', LOG_FORMAT: 'json' },
  });
  const { double, app } = town;
  try {
    const goal = double.openIssue(MAINTAINER, GOAL_TITLE, GOAL_BODY);
    double.addLabel(MAINTAINER, goal, 'gastown:mayor');
    await double.until('the plan awaiting approval', () =>
      [...double.state.comments.values()].some((c) => c.issue === goal && c.body.includes('/gt approve')),
    );
    await double.quiet();
    expect((await remoteLedger(double)).convoys.map((c) => c.status)).toEqual(['awaiting_approval']);

    const requests = double.requests.length;
    const files = filesUnder(join(town.dir, 'app-data'));
    const ticksBefore = logLines(app.log(), 'Deacon tick').length;
    await double.until('five more ticks', () => logLines(app.log(), 'Deacon tick').length >= ticksBefore + 5, 30_000);

    expect(double.requests.slice(requests)).toEqual([]);
    // Nor git: the mirror was neither synced nor written (a pass would fetch, take the lease, push).
    expect(filesUnder(join(town.dir, 'app-data'))).toEqual(files);
    const ticks = logLines(app.log(), 'Deacon tick').slice(ticksBefore);
    // The repository is known (from the label's delivery) and skipped: no pass, no lease, no sync.
    expect(ticks.every((t) => t.known === 1 && t.active === 0 && t.visited === 0)).toBe(true);
  } catch (err) {
    console.error(app.log().slice(-15_000));
    throw err;
  }
}, 300_000);
