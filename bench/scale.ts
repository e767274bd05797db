/**
 * Many runners, one ledger: `npm run bench:scale`. A local bare remote holds 10,000 beads;
 * 32 runner processes (bench/scale-runner.ts), each in its own clone, race for the work
 * beads: sync, claim, sync, heartbeat, sync, finish, sync. Prints sync p50/p99, claims per
 * second, lost claims and push retries, then replays every acknowledged write against the
 * remote: each bead commit a runner saw a sync get through must still be in its bead's
 * history there (0 lost updates).
 *
 *   npm run bench:scale                       # 32 runners, 10,000 beads, 96 work beads
 *   npm run bench:scale -- 8 1000 24          # runners, beads, work beads
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rig } from '../src/rig/rig.js';
import { sling } from '../src/rig/sling.js';
import { benchEnv } from './bench-env.js';

const [runners = 32, total = 10_000, workCount = 96] = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const root = join(import.meta.dirname, '..');
const gtBin = join(root, 'bin', 'gt');
const env = { ...benchEnv, GT_ACTOR: 'bench' };
Object.assign(process.env, benchEnv);

const git = (cwd: string, args: string[]) => execFileSync('git', args, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 30 });
const gt = (cwd: string, args: string[]) => execFileSync(gtBin, args, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 30 });
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

const dir = mkdtempSync(join(tmpdir(), 'gt-scale-'));
try {
  const remote = join(dir, 'remote.git');
  const seed = join(dir, 'seed');
  git(dir, ['init', '-q', '--bare', '-b', 'main', remote]);
  git(dir, ['init', '-q', '-b', 'main', seed]);
  gt(seed, ['init', '--remote', remote]);
  const lines = Array.from({ length: total }, (_, i) =>
    JSON.stringify({ key: `k${i}`, title: `Bead ${i}`, body: `Body of bead ${i}. `.repeat(8), priority: i % 5 }),
  );
  writeFileSync(join(dir, 'beads.jsonl'), `${lines.join('\n')}\n`);
  let t = performance.now();
  const ids: Record<string, string> = JSON.parse(gt(seed, ['bead', 'import', join(dir, 'beads.jsonl'), '--json']));
  const work = Array.from({ length: workCount }, (_, i) => ids[`k${i}`]!);
  const rig = await Rig.open({ repoDir: seed, actor: 'mayor' });
  for (const [i, id] of work.entries()) await sling(rig, id, `pc${i}`);
  rig.close();
  writeFileSync(join(dir, 'work.json'), JSON.stringify(work));
  gt(seed, ['sync']);
  console.log(`setup: ${total} beads imported, ${workCount} slung and pushed in ${fmt(performance.now() - t)}`);
  // One clone synced, then copied: each copy gets its own writer id (and so its own feed chain).
  t = performance.now();
  const first = join(dir, 'clone-0');
  git(dir, ['clone', '-q', remote, first]);
  gt(first, ['sync']);
  const clones = [first];
  for (let i = 1; i < runners; i++) {
    const c = join(dir, `clone-${i}`);
    cpSync(first, c, { recursive: true });
    rmSync(join(c, '.git', 'gastown', 'writer-id'), { force: true });
    clones.push(c);
  }
  rmSync(join(first, '.git', 'gastown', 'writer-id'), { force: true });
  console.log(
    `${runners} clones ready in ${fmt(performance.now() - t)}; remote holds ${git(remote, ['for-each-ref', 'refs/gastown/beads/']).split('\n').length - 1} bead refs`,
  );

  t = performance.now();
  const settled = await Promise.allSettled(
    clones.map(
      (c, i) =>
        new Promise<{
          name: string;
          syncMs: number[];
          claims: number;
          lost: number;
          claimRaces: number;
          pushRetries: number;
          gaveUp: number;
          acked: { ref: string; oid: string }[];
        }>((resolve, reject) => {
          const child = spawn(
            process.execPath,
            ['--import', 'tsx', join(root, 'bench', 'scale-runner.ts'), c, remote, `runner-${i}`, join(dir, 'work.json')],
            {
              cwd: root,
              env: { ...env, GT_ACTOR: `runner-${i}` },
              stdio: ['ignore', 'pipe', 'pipe'],
            },
          );
          let out = '';
          let err = '';
          child.stdout.on('data', (d) => (out += d));
          child.stderr.on('data', (d) => (err += d));
          child.on('close', (code) =>
            code === 0
              ? resolve(JSON.parse(out.trim().split('\n').pop()!))
              : reject(new Error(`runner-${i} exited ${code}: ${err.slice(-2000)}`)),
          );
        }),
    ),
  );
  const wall = performance.now() - t;
  const failed = settled.flatMap((r) => (r.status === 'rejected' ? [String(r.reason).slice(0, 1500)] : []));
  for (const f of failed) console.log(`RUNNER FAILED: ${f}`);
  if (failed.length) process.exitCode = 1;
  const results = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const syncs = results.flatMap((r) => r.syncMs);
  const claims = results.reduce((n, r) => n + r.claims, 0);
  const lost = results.reduce((n, r) => n + r.lost, 0);
  const claimRaces = results.reduce((n, r) => n + r.claimRaces, 0);
  const retries = results.reduce((n, r) => n + r.pushRetries, 0);

  // Replay: every acknowledged bead commit is in its bead's history on the remote.
  const acked = results.flatMap((r) => r.acked);
  const refs = [...new Set(acked.map((a) => a.ref))];
  const reachable = new Set(
    git(remote, ['rev-list', ...refs, '--'])
      .trim()
      .split('\n'),
  );
  const lostUpdates = acked.filter((a) => !reachable.has(a.oid));
  const finished = work.filter((id) => {
    const status = /"status":"([a-z_]+)"/.exec(git(remote, ['cat-file', '-p', `refs/gastown/beads/${id}:bead.json`]))?.[1];
    return status === 'in_review';
  }).length;

  console.log(
    `\nbench:scale: ${runners} runner processes, ${total} beads on one local bare remote, ${workCount} work beads (node ${process.version})`,
  );
  console.log(`runners' wall time           ${fmt(wall)}`);
  console.log(
    `syncs                        ${syncs.length}: p50 ${fmt(pct(syncs, 0.5))}, p99 ${fmt(pct(syncs, 0.99))}, max ${fmt(Math.max(...syncs))}`,
  );
  console.log(
    `claims                       ${claims} held (${(claims / (wall / 1000)).toFixed(2)} per second), ${claimRaces} published claims lost to another runner on the remote (undone, not worked), ${lost} lost after a merge`,
  );
  console.log(
    `push retries (remote moved)  ${retries}; ${results.reduce((n, r) => n + r.gaveUp, 0)} syncs gave up after 6 rejections and were run again`,
  );
  console.log(`work beads finished          ${finished} of ${workCount}; beads worked twice: ${Math.max(0, claims - workCount)}`);
  console.log(`acknowledged writes replayed ${acked.length}: ${lostUpdates.length} lost updates`);
  for (const l of lostUpdates.slice(0, 10)) console.log(`  LOST ${l.ref} ${l.oid}`);
  if (lostUpdates.length || claims > workCount) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
