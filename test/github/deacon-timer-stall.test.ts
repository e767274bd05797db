/**
 * A polecat run that died silently (its runner killed, no `workflow_run.completed` ever
 * delivered), and no webhook after it: the bead stays in progress with a heartbeat that has
 * gone quiet. The app, loaded as `new Probot().load(app)` does (no server), with the real
 * services over a ledger mirror and the GitHub double at the network edge, finds it on its
 * Deacon's timer: the stall pass slings the bead anew and the same pass dispatches its run.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { createGastownApp } from '../../src/app.js';
import { createAppDeps, KNOWN_REPOSITORIES_FILE } from '../../src/github/app-deps.js';
import { KnownRepositories } from '../../src/github/known-repositories.js';
import { markMaterialised, recordPlan } from '../../src/rig/record-plan.js';
import { Rig } from '../../src/rig/rig.js';
import { syncRig } from '../../src/rig/sync-rig.js';
import { claimBead, dispatchReady } from '../../src/rig/work.js';
import { DOUBLE_GIT_ENV } from '../support/github-double/bare-repo.js';
import { startDoubleGitHub, type DoubleGitHub } from '../support/conformance/double-github.js';
import { tempDir } from '../helpers/temp-repo.js';
import { readRemote } from './ledger-e2e.helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const CONFIG = 'planner: checklist\npolecatWorkflow: noop.yml\nconcurrency: 2\n';

/** The repository's ledger as a polecat left it ten minutes ago: one bead claimed by a run that then went silent. */
async function stalledLedger(github: DoubleGitHub, dir: string): Promise<string> {
  const remote = github.double.repo.path;
  const clone = join(dir, 'polecat-clone');
  execFileSync('git', ['clone', '-q', remote, clone], { env: DOUBLE_GIT_ENV });
  Rig.init(clone, { remote });
  const then = Date.now() - 10 * 60_000;
  const rig = await Rig.open({ repoDir: clone, actor: 'gastown[bot]', now: () => new Date(then) });
  cleanups.push(() => rig.close());
  const issue = github.double.state.createIssue(github.double.state.user('octocat'), { title: 'One thing', body: 'x' });
  const recorded = await recordPlan(rig, {
    sourceKey: `github:${github.owner}/${github.repo}#${issue.number}`,
    title: 'One thing',
    source: {
      kind: 'github',
      repo: `${github.owner}/${github.repo}`,
      issue: { number: issue.number, id: issue.id, url: `${github.double.webUrl}/${github.owner}/${github.repo}/issues/${issue.number}` },
      goal: 'x',
      requestedBy: 'octocat',
    },
    plan: { summary: 'one', beads: [{ key: 'a', title: 'Task a', description: 'a', acceptance: [], files: [], blockedBy: [] }] },
    planner: 'checklist',
    usage: null,
    requireApproval: false,
  });
  await markMaterialised(rig, recorded.convoy.id);
  const [slung] = await dispatchReady(rig, { cap: 2 });
  const claim = await claimBead(rig, { runner: 'gha-99', bead: slung!.bead.id });
  expect(claim).not.toBeNull();
  await syncRig(rig, remote);
  return slung!.bead.id;
}

it('a polecat run that died without a word and no webhook after it: the timer slings its bead anew and dispatches a run', async () => {
  const github = await startDoubleGitHub({ files: { '.github/gastown.yml': CONFIG } });
  cleanups.push(() => github.stop());
  const dir = tempDir('deacon-stall');
  cleanups.push(dir.cleanup);
  const bead = await stalledLedger(github, dir.path);
  expect((await readRemote(github.double.repo.path)).beads.map((b) => b.status)).toEqual(['in_progress']);

  const dataDir = join(dir.path, 'app-data');
  // What this replica knew before the run died: a delivery recorded the repository, and its mirror synced.
  new KnownRepositories(join(dataDir, KNOWN_REPOSITORIES_FILE)).record({
    owner: github.owner,
    repo: github.repo,
    installationId: github.double.installationId,
    defaultBranch: 'main',
    prefix: 'refs/gastown/',
  });
  const deps = createAppDeps({
    GASTOWN_DATA_DIR: dataDir,
    GASTOWN_GIT_URL: github.double.gitUrlTemplate,
    GASTOWN_DEACON_EVERY_MS: '200',
    GASTOWN_LEASE_LINGER_MS: '0',
  });
  cleanups.push(async () => deps.close?.());
  await deps.mirrors!.withRepoLedger(
    { owner: github.owner, repo: github.repo, prefix: 'refs/gastown/', actor: 'gastown[bot]', token: async () => '' },
    async () => undefined,
  );
  const before = github.double.requests.length;

  await github.probot.load(createGastownApp(deps));
  await expect
    .poll(() => [...github.double.state.runs.values()].filter((r) => r.inputs.bead === bead).length, { timeout: 30_000, interval: 100 })
    .toBe(1);

  // No webhook was involved: nothing was delivered before the app dispatched the run.
  const dispatched = github.double.requests.slice(before).find((r) => /\/dispatches$/.test(r.path) && r.status < 300)!;
  expect(github.double.webhooks.deliveries.filter((d) => d.sentAt <= dispatched.at)).toEqual([]);
  // The stall and the call are on the repository's ledger (the record with the visit's last push).
  await expect
    .poll(
      async () => {
        const { beads, feed } = await readRemote(github.double.repo.path);
        return {
          bead: beads[0]?.id,
          sent: beads[0]?.labels.some((l) => l.startsWith('dispatch-sent:')),
          stalled: feed.some((e) => e.type === 'stalled'),
        };
      },
      { timeout: 10_000, interval: 100 },
    )
    .toEqual({ bead, sent: true, stalled: true });
}, 60_000);
