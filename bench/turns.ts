/**
 * What the budget's one-turn bound costs per model call of a budgeted convoy
 * (polecat/runner/budget-check.ts): on one ledger (a runner on the rig's own clone: two local
 * ledger writes) and across clones of one bare remote (an Actions job: each reservation and
 * release also published by one atomic leased push, after one fetch of the summary refs).
 * Uncontended: one runner, so no lost races and no waiting are in the figures.
 *
 *   npm run bench:turns           # 40 turns each way
 *   npm run bench:turns -- 100
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGitText } from '../src/ledger/run-git.js';
import { turnGuard } from '../src/polecat/runner/budget-check.js';
import { claimOnRemote } from '../src/polecat/runner/publish-claim.js';
import { remoteQueue } from '../src/polecat/runner/town-link.js';
import { createBead, getBead } from '../src/rig/beads.js';
import { createConvoy } from '../src/rig/convoys.js';
import { Rig } from '../src/rig/rig.js';
import { syncRig } from '../src/rig/sync-rig.js';
import { claimBead, dispatchReady, type Claim } from '../src/rig/work.js';
import type { ModelUsage } from '../src/town/types.js';
import { benchEnv } from './bench-env.js';

Object.assign(process.env, benchEnv);
const turns = Number(process.argv[2]) > 0 ? Number(process.argv[2]) : 40;
const TURN: ModelUsage = { inputTokens: 1000, outputTokens: 100, cacheReadTokens: 200, cacheWriteTokens: 50, costUsd: 0.01 };
const times = (k: number): ModelUsage => ({
  inputTokens: k * TURN.inputTokens,
  outputTokens: k * TURN.outputTokens,
  cacheReadTokens: k * TURN.cacheReadTokens,
  cacheWriteTokens: k * TURN.cacheWriteTokens,
  costUsd: Math.round(k * TURN.costUsd * 100) / 100,
});

const root = mkdtempSync(join(tmpdir(), 'gastown-bench-turns-'));
const rigs: Rig[] = [];
try {
  const remote = join(root, 'remote.git');
  const clone = join(root, 'rig');
  await runGitText(['init', '-q', '--bare', '-b', 'main', remote], { cwd: root });
  await runGitText(['init', '-q', '-b', 'main', clone], { cwd: root });
  await runGitText(['commit', '-q', '--allow-empty', '-m', 'seed'], { cwd: clone });
  await runGitText(['remote', 'add', 'origin', remote], { cwd: clone });
  await runGitText(['push', '-q', 'origin', 'main'], { cwd: clone });
  Rig.init(clone, { remote: 'origin', concurrency: 2, heartbeatMs: 5_000, leaseMs: 600_000 });
  const rig = await Rig.open({ repoDir: clone, actor: 'bench' });
  rigs.push(rig);
  const beads = [await createBead(rig, { title: 'local' }), await createBead(rig, { title: 'job' })];
  const convoy = (
    await createConvoy(
      rig,
      'bench',
      beads.map((b) => b.id),
      { budget: { tokens: 1_000_000_000 } },
    )
  ).id;
  await dispatchReady(rig);
  await syncRig(rig, 'origin');
  const job = join(root, 'job');
  await runGitText(['clone', '-q', remote, job], { cwd: root });
  Rig.init(job, { remote: 'origin', concurrency: 1, heartbeatMs: 5_000, leaseMs: 600_000 });
  const jobRig = await Rig.open({ repoDir: job, actor: 'job' });
  rigs.push(jobRig);
  await syncRig(jobRig, 'origin');

  const measure = async (r: Rig, bead: string, synced: boolean): Promise<number> => {
    const sync = synced ? { remote: 'origin', everyMs: 600_000, queue: remoteQueue() } : null;
    const claimLocally = () => claimBead(r, { runner: r.actor, bead, track: synced });
    const claim = (synced ? await claimOnRemote(r, 'origin', claimLocally, () => undefined) : await claimLocally()) as Claim;
    const guard = turnGuard({ rig: r, claim, bead: await getBead(r, bead), agent: 'bench', sync });
    const start = performance.now();
    for (let k = 1; k <= turns; k++) {
      if (await guard.halted()) throw new Error(`halted at turn ${k}: ${guard.halt?.why}`);
      await guard.reportUsage(times(k));
    }
    return (performance.now() - start) / turns;
  };
  // Commits in the remote's history of the book (none before the first publish).
  const bookCommits = async () =>
    Number(
      (await runGitText(['rev-list', '--count', `refs/gastown/meta/turns.${convoy}`, '--'], { cwd: remote }).catch(() => null))?.stdout ??
        0,
    );
  const local = await measure(rig, beads[0]!.id, false);
  const before = await bookCommits();
  const across = await measure(jobRig, beads[1]!.id, true);
  const after = await bookCommits();
  console.log(`turns: ${turns} per mode, one runner, uncontended (guard's check, reservation, usage record and release per turn)`);
  console.log(`one ledger (rig's own clone):        ${local.toFixed(1).padStart(7)} ms/turn, 0 pushes`);
  console.log(
    `across clones (published, Actions): ${across.toFixed(1).padStart(7)} ms/turn, ${((after - before) / turns).toFixed(1)} book commits pushed/turn`,
  );
} finally {
  for (const r of rigs) r.close();
  rmSync(root, { recursive: true, force: true });
}
