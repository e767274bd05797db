/**
 * The review bench (issue 13's target), on the GitHub double with the real app started as
 * `npm start` starts it, without Probot's write pacing (test/support/start-unpaced-app.mjs):
 * a polecat's pull request is sent back by a changes-requested review, round after round, and
 * for each round the step from the review's webhook to the revised polecat's dispatch is
 * measured:
 *   - app time: from the delivery being sent to the dispatch request reaching GitHub (what
 *     the person waits for; target ≤ 1 s), and the app's CPU time (its node process and its
 *     git) over that step;
 *   - GitHub requests the app made in that step (target ≤ 3), with what they were.
 * Each round then waits for the revision run to finish (the agent's work is not the app's).
 *
 *   npm run bench:review                 # 5 rounds
 *   npm run bench:review -- --rounds 10
 */
import { readFileSync } from 'node:fs';
import { buildForTown, MAINTAINER, REPO_CONFIG, startGithubTown } from '../test/e2e/github-town.js';
import type { RecordedRequest } from '../test/support/github-double/github-double.js';

const args = process.argv.slice(2);
const ROUNDS = Number(args[args.indexOf('--rounds') + 1]) || 5;

/** CPU time (ms) of a process and of the children it has waited for, from /proc/<pid>/stat. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .slice(11, 15)
    .reduce((n, f) => n + Number(f) * 10, 0);
}

const kind = (r: RecordedRequest) =>
  `${r.method} ${r.path
    .replace(/\/repos\/[^/]+\/[^/]+/, '')
    .replace(/\/\d+/g, '/:n')
    .replace(/%2F/gi, '/')}`;

const GOAL = ['One file that grows with every round.', '', '- [ ] Grow notes.txt', '  ```sh', '  echo "a line" >> notes.txt', '  ```'].join(
  '\n',
);

console.log("Review bench on the double (app without Probot's write pacing)");
await buildForTown();
const town = await startGithubTown({ config: `${REPO_CONFIG}maxRevisions: ${ROUNDS + 1}\n` });
const { double } = town;
const runsDone = (n: number) => double.state.runs.size === n && [...double.state.runs.values()].every((r) => r.status === 'completed');
const figures: { ms: number; cpu: number; requests: RecordedRequest[] }[] = [];
try {
  const goal = double.openIssue(MAINTAINER, 'Reviewed notes', GOAL);
  double.addLabel(MAINTAINER, goal, 'gastown:mayor');
  await double.until('the first run and its pull request', () => runsDone(1) && double.state.pulls.size === 1, 240_000);
  await double.quiet();
  const pull = [...double.state.pulls.values()][0]!;
  for (let round = 1; round <= ROUNDS; round++) {
    const sent = double.webhooks.deliveries.length;
    const cpuBefore = cpuMs(town.app.pid);
    const res = await double.review(MAINTAINER, pull.number, { event: 'REQUEST_CHANGES', body: `Round ${round}: one more line.` });
    if (res.status !== 200) throw new Error(`the review answered ${res.status}`);
    await double.until('the revision dispatched', () => double.state.runs.size === round + 1, 30_000);
    const cpu = cpuMs(town.app.pid) - cpuBefore;
    const delivery = double.webhooks.deliveries.slice(sent).find((d) => d.event === 'pull_request_review')!;
    const dispatch = double.requests.find((r) => r.method === 'POST' && /\/dispatches$/.test(r.path) && r.at >= delivery.sentAt)!;
    const requests = double.requests.filter((r) => r.at >= delivery.sentAt && r.at <= dispatch.at && r.actor !== MAINTAINER);
    figures.push({ ms: dispatch.at - delivery.sentAt, cpu, requests });
    console.log(
      `  round ${round}: review webhook → dispatch ${dispatch.at - delivery.sentAt} ms (app CPU ${cpu} ms), ${requests.length} GitHub requests: ${requests.map(kind).join(', ')}`,
    );
    await double.until('the revision run to finish', () => runsDone(round + 1), 240_000);
    await double.quiet();
  }
} catch (err) {
  console.error(town.app.log().slice(-8000));
  throw err;
} finally {
  await town.stop();
}
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)]!;
const ms = figures.map((f) => f.ms);
const reqs = figures.map((f) => f.requests.length);
console.log(`  ${figures.length} rounds, review webhook → revised polecat's dispatch:`);
console.log(
  `    app time: median ${median(ms)} ms, max ${Math.max(...ms)} ms  (target ≤ 1000 ms: ${Math.max(...ms) <= 1000 ? 'met' : 'NOT met'})`,
);
console.log(`    app CPU in the step: median ${median(figures.map((f) => f.cpu))} ms`);
console.log(
  `    GitHub requests: median ${median(reqs)}, max ${Math.max(...reqs)}  (target ≤ 3: ${Math.max(...reqs) <= 3 ? 'met' : 'NOT met'})`,
);
if (Math.max(...ms) > 1000 || Math.max(...reqs) > 3) process.exitCode = 1;
