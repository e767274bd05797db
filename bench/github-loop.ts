/**
 * The GitHub loop benchmark, on the GitHub double (test/support/github-double) with the real
 * app started as `npm start` starts it, without Probot's write pacing (Probot spaces writes
 * 1 s apart and creations 3 s apart: waiting, not work; test/support/start-unpaced-app.mjs).
 *
 *   npm run bench:github-loop              # the 6-bead loop once, then the 50-bead run
 *   npm run bench:github-loop -- --loops 3 # the loop three times (a fresh town each)
 *   npm run bench:github-loop -- --no-50   # the loop only
 *   npm run bench:github-loop -- --warm    # each loop on an app that already landed a convoy
 *   npm run bench:github-loop -- --cpu-prof DIR # write the app's V8 CPU profile (.cpuprofile) into DIR
 *   npm run bench:github-loop -- --app-log FILE # the app at LOG_LEVEL=debug, its log written to FILE (costs CPU itself)
 *   npm run bench:github-loop -- --git-trace # also count the git processes the app runs per loop (GIT_TRACE; costs CPU itself)
 *   npm run bench:github-loop -- --git-file  # git over file:// instead of smart HTTP (below)
 *
 * The app and the polecat jobs reach the repository over git's smart HTTP (the double runs
 * `git http-backend`), as on GitHub: the server side of each fetch and push (upload-pack,
 * receive-pack, pack-objects, index-pack, the connectivity check, `gc --auto`) is then the
 * double's work, as on GitHub it is GitHub's, and the app's git is only the client
 * (`git-remote-http`). Over `file://` (`--git-file`, what the tests use) that server side
 * runs as a child of the app's own git, and the app's CPU below would count it.
 *
 * 1. The whole loop of the issue's 6-bead, 2-wave convoy with script agents: label → plan →
 *    3 runs → PRs → merges → 3 runs → merges → landed. Figures:
 *    - GitHub requests per planned bead in the plan phase (from the label to the first
 *      wave's last dispatch, dispatches included; target ≤ 3), and over the whole loop, the
 *      app's own apart from what the polecat jobs cause (the app serving their token
 *      exchange; their own OIDC token, pull request, token revocation): RecordedRequest.by;
 *    - app time per planned bead, over the whole loop, two ways: the CPU time of the app's
 *      process and of the git processes it ran (from /proc; what the app costs, whatever the
 *      machine's load), and the wall time at least one webhook delivery was being handled
 *      (sent → answered; Probot answers once the handler is done), which on a loaded machine
 *      also counts waiting for a CPU. The agents' work runs in workflow runs, in neither
 *      (target ≤ 300 ms/bead).
 * 2. A 50-bead convoy materialised while the double enforces a secondary rate limit (GitHub's
 *    "80 content-generating requests per minute", scaled down: 5 per 5 s per token owner,
 *    answered 403 with `retry-after`): it must end with exactly 50 child issues, each once,
 *    every one a sub-issue of the goal, every edge there, and one status comment.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  buildForTown,
  GOAL_BODY,
  GOAL_TITLE,
  mergeUntilLanded,
  MAINTAINER,
  remoteLedger,
  startGithubTown,
  TWO_WAVE_BODY,
  TWO_WAVE_TITLE,
  type GithubTown,
} from '../test/e2e/github-town.js';
import type { GitHubDouble, RecordedRequest } from '../test/support/github-double/github-double.js';

const args = process.argv.slice(2);
const LOOPS = Number(args[args.indexOf('--loops') + 1]) || 1;
const WARM = args.includes('--warm');
const FIFTY = !args.includes('--no-50');
const GIT_TRACE = args.includes('--git-trace');
const APP_LOG = args.includes('--app-log') ? resolve(args[args.indexOf('--app-log') + 1] ?? 'app.log') : null;
const CPU_PROF = args.includes('--cpu-prof') ? resolve(args[args.indexOf('--cpu-prof') + 1] ?? '.') : null;
/** Where the app's git writes its GIT_TRACE lines (an absolute path: git takes a number there for a file descriptor). */
const TRACE_FILE = join(tmpdir(), `gastown-bench-git-trace-${process.pid}.log`);
/** Smart HTTP unless `--git-file`: the server side of git is the double's, not the app's. */
const GIT_OVER_HTTP = !args.includes('--git-file');
const LIMIT = { max: 5, windowMs: 5000 };

/** Requests the app makes for its own work (webhooks), not while serving a polecat job's token exchange. */
const byApp = (r: RecordedRequest) => r.by === 'app';
/** Requests a polecat job causes: the app's for its token exchange, and the job's own (OIDC token, pushes' API calls, its PR). */
const forJobs = (r: RecordedRequest) => r.by === 'app-for-job' || r.by === 'job';

function kind(r: RecordedRequest): string {
  if (r.graphql)
    return `POST graphql ${r.graphql.type} ${[...new Set(r.graphql.fields)].map((f) => `${f}×${r.graphql!.fields.filter((x) => x === f).length}`).join(' ')}`;
  return `${r.method} ${
    r.path
      .replace(/\/repos\/[^/]+\/[^/]+/, '')
      .replace(/\/\d+/g, '/:n')
      .replace(/%2F/gi, '/') || '/'
  }`;
}

function breakdown(requests: RecordedRequest[]): string {
  const kinds = new Map<string, number>();
  for (const r of requests) kinds.set(kind(r), (kinds.get(kind(r)) ?? 0) + 1);
  return [...kinds.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, n]) => `      ${String(n).padStart(3)} × ${k}`)
    .join('\n');
}

/** Milliseconds within [from, to] covered by at least one of the intervals. */
function covered(intervals: [number, number][]): number {
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of [...intervals].sort((x, y) => x[0] - y[0])) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}

/** CPU time (ms) of a process (`own`) and of the children it has waited for (its git), from /proc/<pid>/stat. */
function cpuMs(pid: number): { own: number; children: number; user: number; sys: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // utime, stime, cutime, cstime are fields 14 to 17 (1-based), in clock ticks (100 per second here).
  const [utime, stime, cutime, cstime] = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .slice(11, 15)
    .map((f) => Number(f) * 10) as [number, number, number, number];
  return { own: utime + stime, children: cutime + cstime, user: utime, sys: stime };
}

interface LoopFigures {
  beads: number;
  cpuMs: number;
  cpuOwnMs: number;
  planRequests: number;
  loopRequests: number;
  exchangeRequests: number;
  jobRequests: number;
  appMs: number;
  deliveries: number;
  late: number;
  agentMs: number;
  wallMs: number;
}

/** Git processes the app ran (each git, and git's own children such as upload-pack, logs one `built-in:` line), by subcommand. */
function gitProcesses(): Map<string, number> {
  const file = TRACE_FILE;
  const counts = new Map<string, number>();
  if (!existsSync(file)) return counts;
  for (const m of readFileSync(file, 'utf8').matchAll(/trace: built-in: git ([a-z-]+)(.*)/g)) {
    // The repository lease's own pushes and reads apart from the ledger's.
    const key = /-leases\//.test(m[2]!) ? `${m[1]} (lease)` : m[1]!;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

async function loop(town: GithubTown): Promise<LoopFigures> {
  const { double } = town;
  const started = Date.now();
  const gitBefore = gitProcesses();
  const cpuBefore = cpuMs(town.app.pid);
  const from = double.requests.length;
  const fromDelivery = double.webhooks.deliveries.length;
  const goal = double.openIssue(MAINTAINER, TWO_WAVE_TITLE, TWO_WAVE_BODY);
  double.addLabel(MAINTAINER, goal, 'gastown:mayor');
  const dispatches = () =>
    double.requests.slice(from).filter((r) => r.method === 'POST' && /\/dispatches$/.test(r.path) && r.status === 204);
  await double.until('the first wave dispatched', () => dispatches().length >= 3, 120_000);
  const planEnd = double.requests.indexOf(dispatches()[2]!);
  const plan = double.requests.slice(from, planEnd + 1).filter(byApp);
  await mergeUntilLanded(double, goal);
  await double.until('the landing in the ledger', async () =>
    (await remoteLedger(double)).convoys.some((c) => c.source?.issue?.number === goal && c.status === 'landed'),
  );
  await double.quiet(1000);
  const cpuAfter = cpuMs(town.app.pid);
  const cpu = { own: cpuAfter.own - cpuBefore.own, children: cpuAfter.children - cpuBefore.children };
  console.log(
    `    the app's node: ${cpuAfter.user - cpuBefore.user} ms user, ${cpuAfter.sys - cpuBefore.sys} ms system (spawning and file writes are system time)`,
  );
  if (GIT_TRACE) {
    const git = [...gitProcesses().entries()]
      .map(([k, n]) => [k, n - (gitBefore.get(k) ?? 0)] as const)
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1]);
    console.log(`    git processes run by the app: ${git.reduce((n, [, c]) => n + c, 0)}`);
    console.log(git.map(([k, n]) => `      ${String(n).padStart(3)} × ${k}`).join('\n'));
  }
  const beads = double.state.issues.get(goal)!.subIssues.length;
  const all = double.requests.slice(from).filter(byApp);
  const deliveries = double.webhooks.deliveries.slice(fromDelivery);
  const runs = [...double.state.runs.values()].filter((r) => (r.startedMs ?? 0) >= started);
  const gitRequests = double.gitRequests.filter((r) => r.at >= started);
  // The jobs' git sends their token as a header; the app's git sends none (the double does not ask for the one in its URL).
  // The app's in-process reads (ledger/smart-http.ts) name themselves `git/gastown`; its git's requests carry no token.
  const byTheApp = (r: (typeof gitRequests)[number]) => r.actor === null || r.agent === 'git/gastown';
  const gitCount = (service: string, app: boolean) => gitRequests.filter((r) => r.service === service && byTheApp(r) === app).length;
  if (GIT_OVER_HTTP)
    console.log(
      `    git over smart HTTP (not counted as GitHub requests): the app's ${gitCount('git-upload-pack', true)} upload-pack and ${gitCount('git-receive-pack', true)} receive-pack requests, the jobs' ${gitCount('git-upload-pack', false)} and ${gitCount('git-receive-pack', false)}`,
    );
  console.log(`    plan phase (label → 3rd dispatch): ${plan.length} requests by the app`);
  console.log(breakdown(plan));
  console.log(`    rest of the loop: ${all.length - plan.length} requests by the app`);
  console.log(breakdown(all.filter((r) => !plan.includes(r))));
  const jobs = double.requests.slice(from).filter(forJobs);
  console.log(
    `    the polecat jobs' requests: ${jobs.filter((r) => r.by === 'app-for-job').length} by the app serving their token exchange, ${jobs.filter((r) => r.by === 'job').length} by the jobs themselves`,
  );
  console.log(breakdown(jobs).replace(/^ {6}/gm, '      '));
  const byEvent = new Map<string, number[]>();
  for (const d of deliveries) {
    const key = `${d.event}.${d.action}`;
    byEvent.set(key, [...(byEvent.get(key) ?? []), (d.answeredAt ?? Date.now()) - d.sentAt]);
  }
  console.log('    app time by event (deliveries, summed ms, mean ms):');
  for (const [key, ms] of [...byEvent.entries()].sort((a, b) => b[1].reduce((x, y) => x + y, 0) - a[1].reduce((x, y) => x + y, 0)))
    console.log(
      `      ${key.padEnd(32)} ${String(ms.length).padStart(3)} ${String(ms.reduce((x, y) => x + y, 0)).padStart(7)} ${(ms.reduce((x, y) => x + y, 0) / ms.length).toFixed(0).padStart(6)}`,
    );
  return {
    beads,
    cpuMs: cpu.own + cpu.children,
    cpuOwnMs: cpu.own,
    planRequests: plan.length,
    loopRequests: all.length,
    exchangeRequests: jobs.filter((r) => r.by === 'app-for-job').length,
    jobRequests: jobs.filter((r) => r.by === 'job').length,
    appMs: covered(deliveries.map((d) => [d.sentAt, d.answeredAt ?? Date.now()])),
    deliveries: deliveries.length,
    late: deliveries.filter((d) => d.status === 202).length,
    agentMs: runs.reduce((n, r) => n + ((r.endedMs ?? 0) - (r.startedMs ?? 0)), 0),
    wallMs: Date.now() - started,
  };
}

/** A checklist of `n` tasks; task k > 10 comes after task k - 10 (40 edges for 50 tasks). */
function fiftyGoal(n: number): string {
  return [
    'Fifty small things.',
    '',
    ...Array.from({ length: n }, (_, i) => `- [ ] Small thing ${i + 1}${i >= 10 ? ` (after ${i - 9})` : ''}`),
  ].join('\n');
}

async function fifty(double: GitHubDouble): Promise<void> {
  const started = Date.now();
  double.secondaryRateLimit = LIMIT;
  const goal = double.openIssue(MAINTAINER, 'Fifty beads', fiftyGoal(50));
  double.addLabel(MAINTAINER, goal, 'gastown:mayor');
  const statusComment = () => [...double.state.comments.values()].find((c) => c.issue === goal && c.body.includes('<!-- gastown:convoy '));
  const failed = () => double.state.issues.get(goal)!.labels.includes('gastown:failed');
  await double.until(
    'the 50-bead plan on GitHub',
    () => failed() || (double.state.issues.get(goal)!.subIssues.length === 50 && !!statusComment()?.body.includes('#')),
    600_000,
  );
  await double.quiet(2000, 600_000);
  const seconds = (Date.now() - started) / 1000;
  const children = [...double.state.issues.values()].filter((i) => i.body?.includes('<!-- gastown:bead '));
  const markers = children.map((i) => /<!-- gastown:bead (gt-[0-9a-z]+) -->/.exec(i.body!)![1]);
  const subIssues = double.state.issues.get(goal)!.subIssues;
  const edges = children.reduce((n, c) => n + c.blockedBy.length, 0);
  const requests = double.requests.filter(byApp);
  const limited = requests.filter((r) => r.status === 403);
  const ledger = await remoteLedger(double);
  const convoy = ledger.convoys.find((c) => c.source?.issue?.number === goal);
  const linked = ledger.beads.filter((b) => b.convoy === convoy?.id && b.issue).length;
  console.log(`  50-bead convoy under a secondary rate limit of ${LIMIT.max} content-creating requests per ${LIMIT.windowMs / 1000} s:`);
  console.log(
    `    ${failed() ? 'FAILED (gastown:failed on the goal)' : 'materialised'} in ${seconds.toFixed(1)} s; ${requests.length} requests by the app, ${limited.length} answered 403 (secondary rate limit)`,
  );
  console.log(
    `    child issues: ${children.length} (${new Set(markers).size} distinct beads), sub-issues of the goal: ${subIssues.length}, blocked-by edges: ${edges} (plan: 40)`,
  );
  console.log(
    `    status comments: ${[...double.state.comments.values()].filter((c) => c.issue === goal).length}; ledger: ${convoy?.beads.length ?? 0} beads, ${linked} linked to their issue`,
  );
  console.log(`    requests per planned bead: ${(requests.length / 50).toFixed(2)}`);
  console.log(breakdown(requests));
  const ok =
    !failed() && children.length === 50 && new Set(markers).size === 50 && subIssues.length === 50 && edges === 40 && linked === 50;
  console.log(`    ${ok ? 'OK: every bead created once, nothing lost' : 'NOT OK'}`);
  if (!ok) process.exitCode = 1;
}

console.log("GitHub loop bench on the double (app without Probot's write pacing)");
console.log(
  GIT_OVER_HTTP
    ? "  git: smart HTTP (the double's git http-backend): the server side of every fetch and push is the double's, as on GitHub it is GitHub's, and not in the app's CPU"
    : "  git: file:// (--git-file): the server side of every fetch and push runs as a child of the app's git, and is counted in the app's CPU",
);
await buildForTown();
const figures: LoopFigures[] = [];
for (let i = 0; i < LOOPS; i++) {
  const town = await startGithubTown({
    gitOverHttp: GIT_OVER_HTTP,
    env: { ...(GIT_TRACE ? { GIT_TRACE: TRACE_FILE } : {}), ...(APP_LOG ? { LOG_LEVEL: 'debug' } : {}) },
    ...(CPU_PROF ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`] } : {}),
  });
  try {
    if (WARM) {
      // A server runs for days: its code is compiled and its mirror exists. The demo's convoy
      // (other files than the measured one's) lands first on the same app, unmeasured.
      const warmGoal = town.double.openIssue(MAINTAINER, GOAL_TITLE, GOAL_BODY);
      town.double.addLabel(MAINTAINER, warmGoal, 'gastown:mayor');
      await mergeUntilLanded(town.double, warmGoal);
      await town.double.quiet(1000);
      console.log('  (warm: the demo convoy landed first on the same app, not measured)');
    }
    console.log(`  loop ${i + 1}/${LOOPS}: the 6-bead, 2-wave convoy, label to landing`);
    const f = await loop(town);
    figures.push(f);
    console.log(
      `    ${f.beads} beads; app CPU ${f.cpuMs} ms (node ${f.cpuOwnMs}, its git ${f.cpuMs - f.cpuOwnMs}); app busy (deliveries in flight) ${f.appMs} ms over ${f.deliveries} deliveries (${f.late} answered 202 after 9 s); ` +
        `agents' runs ${(f.agentMs / 1000).toFixed(1)} s (summed); wall ${(f.wallMs / 1000).toFixed(1)} s`,
    );
  } catch (err) {
    console.error(town.app.log().slice(-8000));
    throw err;
  } finally {
    await town.stop();
    rmSync(TRACE_FILE, { force: true });
    if (APP_LOG) writeFileSync(LOOPS > 1 ? `${APP_LOG}.${i + 1}` : APP_LOG, town.app.log());
  }
}
const mean = (pick: (f: LoopFigures) => number) => figures.reduce((n, f) => n + pick(f), 0) / figures.length;
const perBead = (pick: (f: LoopFigures) => number) => mean((f) => pick(f) / f.beads);
console.log(`  6-bead loop, mean of ${figures.length}:`);
console.log(
  `    GitHub requests per planned bead, plan phase (first wave's dispatches included): ${perBead((f) => f.planRequests).toFixed(2)}  (target ≤ 3: ${perBead((f) => f.planRequests) <= 3 ? 'met' : 'NOT met'})`,
);
console.log(`    GitHub requests per planned bead, whole loop, by the app for its own work: ${perBead((f) => f.loopRequests).toFixed(2)}`);
console.log(
  `    GitHub requests per planned bead, whole loop, for the polecat jobs: ${perBead((f) => f.exchangeRequests).toFixed(2)} by the app (token exchange) + ${perBead((f) => f.jobRequests).toFixed(2)} by the jobs (OIDC token, PR, token revoked)`,
);
console.log(
  `    app CPU time per planned bead, whole loop (app process and its git): ${perBead((f) => f.cpuMs).toFixed(0)} ms  (target ≤ 300 ms: ${perBead((f) => f.cpuMs) <= 300 ? 'met' : 'NOT met'})`,
);
console.log(
  `    app busy wall time per planned bead, whole loop (a delivery in flight; includes waiting for a CPU): ${perBead((f) => f.appMs).toFixed(0)} ms`,
);

if (FIFTY) {
  const town = await startGithubTown({
    config: ['planner: checklist', 'maxBeads: 50', 'polecatWorkflow: null', ''].join('\n'),
    gitOverHttp: GIT_OVER_HTTP,
  });
  try {
    await fifty(town.double);
  } catch (err) {
    console.error(town.app.log().slice(-8000));
    throw err;
  } finally {
    await town.stop();
  }
}
