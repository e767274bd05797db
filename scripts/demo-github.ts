/**
 * `npm run demo:github`: the GitHub loop told as a story, offline. A stand-in GitHub (the
 * double of the end-to-end tests) holds the demo's "calc" project; the real Gas Town app is
 * started as `npm start` starts it and sees that GitHub as a GitHub Enterprise Server. A
 * maintainer labels a goal issue, the Mayor plans it, polecats run as Actions workflow runs
 * and open pull requests, the maintainer merges them, and the convoy lands. Dev-only (it
 * runs test code through tsx), so it is left out of the published package.
 */
import { execFileSync } from 'node:child_process';
import {
  GOAL_BODY,
  GOAL_TITLE,
  MAINTAINER,
  OWNER,
  REPO,
  beadOfPull,
  buildForTown,
  pullsReadyToMerge,
  remoteLedger,
  startGithubTown,
} from '../test/e2e/github-town.js';

const say = (line = '') => process.stdout.write(`${line}\n`);
const started = Date.now();
const clock = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;

say('Gas Town on GitHub, offline: the whole loop against a stand-in GitHub on 127.0.0.1.');
say(`${clock()}  building the app and the gt CLI when they are older than src/ ...`);
await buildForTown();
const town = await startGithubTown({ paced: true });
const { double } = town;
const web = (path: string) => `${double.webUrl}/${OWNER}/${REPO}${path}`;
let exitCode = 0;
try {
  say(`${clock()}  GitHub: ${web('')} holds "calc", a tiny calculator in sh, with .github/gastown.yml`);
  say('         (checklist planner, 3 polecats at once, close the goal when it lands, the script agent on) and the');
  say("         polecat workflow gt install-workflow writes: it uses the pinned action (here: this checkout's action.yml);");
  say(`         repository variables GASTOWN_AGENT=script and GASTOWN_APP_URL (each run trades its OIDC token there`);
  say('         for a token scoped to this repository, so its pull request is opened by the app and would run CI).');
  say(`${clock()}  the Gas Town app runs as \`npm start\` runs it (bin/start.js) on port ${town.app.port},`);
  say(`         GHE_HOST=${double.host}, webhooks signed with its WEBHOOK_SECRET`);

  const goal = double.openIssue(MAINTAINER, GOAL_TITLE, GOAL_BODY);
  say(`${clock()}  @${MAINTAINER} opens issue #${goal} "${GOAL_TITLE}" (five tasks with "after" clauses)`);
  double.addLabel(MAINTAINER, goal, 'gastown:mayor');
  say(`${clock()}  @${MAINTAINER} labels #${goal} gastown:mayor`);

  const seen = new Set<string>();
  const once = (key: string, line: () => string) => {
    if (seen.has(key)) return;
    seen.add(key);
    say(line());
  };
  const parent = () => double.state.issues.get(goal)!;
  const report = () => {
    const p = parent();
    const edges = p.subIssues.reduce((n, c) => n + double.state.issues.get(c)!.blockedBy.length, 0);
    if (p.subIssues.length === 5 && edges === 4)
      once('plan', () => {
        const lines = p.subIssues.map((n) => {
          const i = double.state.issues.get(n)!;
          const after = i.blockedBy.length ? `  (blocked by ${i.blockedBy.map((b) => `#${b}`).join(', ')})` : '';
          return `           #${i.number} ${i.title}${after}`;
        });
        return [`${clock()}  the Mayor planned #${goal} into 5 sub-issues with blocked-by edges:`, ...lines].join('\n');
      });
    for (const c of double.state.comments.values())
      if (c.issue === goal && c.body.includes('<!-- gastown:convoy '))
        once('status', () => `${clock()}  status comment posted on #${goal}: ${web(`/issues/${goal}#issuecomment-${c.id}`)}`);
    for (const r of double.state.runs.values()) {
      if (r.startedMs) once(`run-start-${r.id}`, () => `${clock()}  Actions run ${r.id} "${r.displayTitle}" started`);
      if (r.status === 'completed') once(`run-end-${r.id}`, () => `${clock()}  Actions run ${r.id} finished: ${r.conclusion}`);
    }
    for (const p of double.state.pulls.values())
      once(
        `pr-${p.number}`,
        () => `${clock()}  PR #${p.number} opened by ${p.user.login}: "${p.title}" from ${p.head} (${p.body?.split('\n')[0]})`,
      );
  };

  const timer = setInterval(report, 100);
  try {
    while (parent().state === 'open') {
      await double.until(
        'a pull request to merge, or the landing',
        () => parent().state === 'closed' || pullsReadyToMerge(double).length > 0,
        300_000,
      );
      report();
      for (const pull of pullsReadyToMerge(double)) {
        const res = await double.mergePullRequest(MAINTAINER, pull.number);
        const sha = (res.json as { sha?: string } | undefined)?.sha?.slice(0, 7);
        say(
          `${clock()}  @${MAINTAINER} merges PR #${pull.number} (${beadOfPull(pull)}) into main${sha ? ` at ${sha}` : `: HTTP ${res.status}`}`,
        );
      }
    }
    await double.until('the landing in the ledger', async () => (await remoteLedger(double)).convoys[0]?.status === 'landed');
    await double.quiet();
  } finally {
    clearInterval(timer);
    report();
  }

  const ledger = await remoteLedger(double);
  const convoy = ledger.convoys[0]!;
  say(`${clock()}  convoy ${convoy.id} landed; issue #${goal} is ${parent().state} (${parent().stateReason})`);
  say();
  say('Where things are (the stand-in GitHub is gone when this exits):');
  say(`  goal issue      ${web(`/issues/${goal}`)}`);
  for (const n of parent().subIssues) {
    const issue = double.state.issues.get(n)!;
    const pr = [...double.state.pulls.values()].find((p) => p.body?.startsWith(`Closes #${n}\n`));
    say(`  #${n} ${issue.title.padEnd(40)} ${issue.state}, PR ${pr ? web(`/pull/${pr.number}`) : '-'}${pr?.merged ? ' (merged)' : ''}`);
  }
  say(
    `  ledger          ${double.repo.refs('refs/gastown/').size} refs under refs/gastown/ of the repository (convoy ${convoy.id}, ${ledger.beads.length} beads)`,
  );
  say();
  say('main, as merged:');
  say(
    execFileSync('git', ['--git-dir', double.repo.path, 'log', '--oneline', '--first-parent', 'main'], { encoding: 'utf8' })
      .trimEnd()
      .replace(/^/gm, '  '),
  );
  say();
  say(`The status comment on #${goal}, final text:`);
  const status = [...double.state.comments.values()].find((c) => c.issue === goal && c.body.includes('<!-- gastown:convoy '));
  say(status?.body.trimEnd().replace(/^/gm, '  ') ?? '  (none)');
  const landed = [...double.state.comments.values()].find((c) => c.issue === goal && c.body.includes('<!-- gastown:landed '));
  if (landed) say(`\nAnd the landing comment:\n${landed.body.trimEnd().replace(/^/gm, '  ')}`);
  say();
  say(
    `${clock()}  done: ${double.requests.length} API requests, ${double.webhooks.deliveries.length} webhooks, ${double.state.runs.size} workflow runs.`,
  );
} catch (err) {
  exitCode = 1;
  process.stderr.write(
    `demo:github failed: ${(err as Error).message}\n--- the app's log (last part) ---\n${town.app.log().slice(-8000)}\n`,
  );
} finally {
  await town.stop();
}
process.exit(exitCode);
