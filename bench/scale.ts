/**
 * Many runners, one ledger: `npm run bench:scale`. A local bare remote holds 10,000 beads;
 * 32 runner processes (bench/scale-runner.ts), each in its own clone, race for the work
 * beads: sync, claim (published to the remote at once, as gt runner does), sync, heartbeat,
 * sync, finish, sync. Prints sync p50/p99, claims per second, lost claims and push retries,
 * then replays every acknowledged write against the remote: each bead commit a runner saw a
 * sync get through must still be in its bead's history there (0 lost updates).
 *
 *   npm run bench:scale                                        # 32 runners, 10,000 beads, 96 work beads
 *   npm run bench:scale -- --runners 8 --beads 1000 --work 24  # a smaller run (or: -- 8 1000 24)
 *   npm run bench:scale -- --timeout 900 --keep                # give up after 900 s; keep the scratch directory
 *
 * Every way this can end prints why: a runner that fails (its exit code or signal and the
 * tail of its stderr), a timeout or a signal (SIGTERM from a CI timeout, Ctrl-C: what was
 * done so far, then the runners' process groups are killed), an unexpected error, and a
 * cleanup that fails (reported after the figures, never instead of them). A progress line
 * every 15 s shows a long run is alive. Exit code: 0 when every figure holds, 1 otherwise,
 * 128+n on signal n.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Rig } from '../src/rig/rig.js';
import { sling } from '../src/rig/sling.js';
import { benchEnv } from './bench-env.js';

const USAGE = 'usage: npm run bench:scale -- [--runners N] [--beads N] [--work N] [--timeout SECONDS] [--keep]  (or: N BEADS WORK)';

interface RunnerResult {
  name: string;
  syncMs: number[];
  claims: number;
  lost: number;
  claimRaces: number;
  pushRetries: number;
  gaveUp: number;
  acked: { ref: string; oid: string }[];
}

function options() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      runners: { type: 'string' },
      beads: { type: 'string' },
      work: { type: 'string' },
      timeout: { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const number = (name: string, text: string | undefined, fallback: number): number => {
    if (text === undefined) return fallback;
    if (!/^\d+$/.test(text) || Number(text) < 1) throw new Error(`--${name} must be a whole number of at least 1, not "${text}"\n${USAGE}`);
    return Number(text);
  };
  const runners = number('runners', values.runners ?? positionals[0], 32);
  const total = number('beads', values.beads ?? positionals[1], 10_000);
  const work = number('work', values.work ?? positionals[2], Math.min(96, total));
  if (work > total) throw new Error(`--work (${work}) cannot exceed --beads (${total})\n${USAGE}`);
  return { runners, total, work, timeoutMs: number('timeout', values.timeout, 1800) * 1000, keep: values.keep };
}

let opts: ReturnType<typeof options>;
try {
  opts = options();
} catch (err) {
  console.error(`bench:scale: ${(err as Error).message}`);
  process.exit(2);
}
const { runners, total, work: workCount, timeoutMs, keep } = opts;
const root = join(import.meta.dirname, '..');
const gtBin = join(root, 'bin', 'gt');
const env = { ...benchEnv, GT_ACTOR: 'bench' };
Object.assign(process.env, benchEnv);

const git = (cwd: string, args: string[]) => execFileSync('git', args, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 30 });
const gt = (cwd: string, args: string[]) => execFileSync(gtBin, args, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 30 });
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const started = performance.now();
const since = () => fmt(performance.now() - started);

/**
 * A clone for another runner: the same files, objects hard-linked (git never changes an
 * object file, it writes new ones beside them), everything else copied. Far less to write
 * than 32 full copies on a busy disk; each copy drops the writer id so it gets its own feed chain.
 */
function copyClone(from: string, to: string, objects = false): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const src = join(from, entry.name);
    const dst = join(to, entry.name);
    if (entry.isDirectory()) copyClone(src, dst, objects || (entry.name === 'objects' && from.endsWith('.git')));
    else if (entry.isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
    else if (objects) linkSync(src, dst);
    else copyFileSync(src, dst);
  }
}

// What is running and what is done, for a report however the run ends.
const children = new Set<ChildProcess>();
const finishedBeads = new Set<string>();
let runnersDone = 0;
let phase = 'setup';
let dir = '';

function killRunners(): void {
  for (const child of children) {
    try {
      // Each runner leads its own process group: its git processes go with it.
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function cleanup(): void {
  if (!dir) return;
  if (keep) {
    console.log(`scratch directory kept: ${dir}`);
    return;
  }
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  } catch (err) {
    // Reported, and after everything else: it must never hide why the run ended.
    console.log(`cleanup: could not remove ${dir}: ${(err as Error).message}`);
  }
}

/** Ends the run early: why, what was done so far, then the runners are killed and the scratch directory removed. */
function abort(reason: string, code: number): never {
  console.log(
    `\nbench:scale ABORTED after ${since()} (${phase}): ${reason}; ${finishedBeads.size} of ${workCount} work beads finished, ${runnersDone} of ${runners} runners done`,
  );
  killRunners();
  cleanup();
  process.exit(code);
}

for (const [signal, n] of [
  ['SIGTERM', 15],
  ['SIGINT', 2],
  ['SIGHUP', 1],
] as const)
  process.on(signal, () => abort(`stopped by ${signal}`, 128 + n));
process.on('uncaughtException', (err) => abort(`unexpected error: ${err.stack ?? err}`, 1));
process.on('unhandledRejection', (err) => abort(`unexpected error: ${(err as Error)?.stack ?? err}`, 1));

dir = mkdtempSync(join(tmpdir(), 'gt-scale-'));
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
const importMs = performance.now() - t;
t = performance.now();
const work = Array.from({ length: workCount }, (_, i) => ids[`k${i}`]!);
const rig = await Rig.open({ repoDir: seed, actor: 'mayor' });
for (const [i, id] of work.entries()) await sling(rig, id, `pc${i}`);
rig.close();
writeFileSync(join(dir, 'work.json'), JSON.stringify(work));
gt(seed, ['sync']);
console.log(
  `setup: ${total} beads imported in ${fmt(importMs)} (gt bead import); ${workCount} slung and pushed in ${fmt(performance.now() - t)}`,
);
// One clone synced, then copied: each copy gets its own writer id (and so its own feed chain).
t = performance.now();
const first = join(dir, 'clone-0');
git(dir, ['clone', '-q', remote, first]);
gt(first, ['sync']);
rmSync(join(first, '.git', 'gastown', 'writer-id'), { force: true });
const firstMs = performance.now() - t;
const clones = [first];
for (let i = 1; i < runners; i++) {
  const c = join(dir, `clone-${i}`);
  copyClone(first, c);
  clones.push(c);
}
console.log(
  `${runners} clones ready in ${fmt(performance.now() - t)} (the first cloned and synced in ${fmt(firstMs)}, then copied); remote holds ${git(remote, ['for-each-ref', 'refs/gastown/beads/']).split('\n').length - 1} bead refs`,
);

phase = 'runners racing';
t = performance.now();
const timer = setTimeout(() => abort(`timed out after ${timeoutMs / 1000} s (--timeout)`, 1), timeoutMs);
const ticker = setInterval(
  () => console.log(`  ${since()}: ${finishedBeads.size} of ${workCount} work beads finished, ${runnersDone} of ${runners} runners done`),
  15_000,
);
const settled = await Promise.allSettled(
  clones.map(
    (c, i) =>
      new Promise<RunnerResult>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', join(root, 'bench', 'scale-runner.ts'), c, remote, `runner-${i}`, join(dir, 'work.json')],
          { cwd: root, env: { ...env, GT_ACTOR: `runner-${i}` }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
        );
        children.add(child);
        let out = '';
        let err = '';
        let partial = '';
        child.stdout.on('data', (d) => {
          out += d;
          partial += d;
          // Progress lines (`finished <bead>`) as they come; the last line is the result.
          const lines = partial.split('\n');
          partial = lines.pop()!;
          for (const line of lines) if (line.startsWith('finished ')) finishedBeads.add(line.slice('finished '.length));
        });
        child.stderr.on('data', (d) => (err = (err + d).slice(-20_000)));
        child.on('error', (e) => reject(new Error(`runner-${i} could not start: ${e.message}`)));
        child.on('close', (code, signal) => {
          children.delete(child);
          runnersDone++;
          if (code !== 0) {
            reject(
              new Error(
                `runner-${i} ${signal ? `was killed by ${signal}` : `exited ${code}`}: ${err.slice(-2000).trim() || '(no stderr)'}`,
              ),
            );
            return;
          }
          const last = out.trim().split('\n').pop() ?? '';
          try {
            resolve(JSON.parse(last) as RunnerResult);
          } catch {
            reject(new Error(`runner-${i} exited 0 without its result line; its last output: ${last.slice(-500) || '(none)'}`));
          }
        });
      }),
  ),
);
clearTimeout(timer);
clearInterval(ticker);
phase = 'replaying acknowledged writes';
const wall = performance.now() - t;
const failed = settled.flatMap((r) => (r.status === 'rejected' ? [String(r.reason).slice(0, 1500)] : []));
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
  refs.length
    ? git(remote, ['rev-list', ...refs, '--'])
        .trim()
        .split('\n')
    : [],
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
  `syncs                        ${syncs.length}: p50 ${syncs.length ? fmt(pct(syncs, 0.5)) : '-'}, p99 ${syncs.length ? fmt(pct(syncs, 0.99)) : '-'}, max ${syncs.length ? fmt(Math.max(...syncs)) : '-'}`,
);
console.log(
  `claims                       ${claims} held (${(claims / (wall / 1000)).toFixed(2)} per second), ${claimRaces} published claims lost to another runner on the remote (undone, not worked), ${lost} lost after a merge`,
);
console.log(
  `push retries (remote moved)  ${retries}; ${results.reduce((n, r) => n + r.gaveUp, 0)} syncs gave up after 6 rejections and were run again`,
);
console.log(`work beads finished          ${finished} of ${workCount}; beads worked twice: ${Math.max(0, claims - workCount)}`);
console.log(`replay                       ${acked.length} acknowledged writes replayed, ${lostUpdates.length} lost`);
for (const l of lostUpdates.slice(0, 10)) console.log(`  LOST ${l.ref} ${l.oid}`);
const problems = [
  ...failed.map((f) => `RUNNER FAILED: ${f}`),
  ...(lostUpdates.length ? [`${lostUpdates.length} acknowledged writes lost`] : []),
  ...(claims > workCount ? [`${claims - workCount} beads worked twice`] : []),
  ...(finished < workCount ? [`${workCount - finished} work beads not finished`] : []),
];
for (const p of problems) console.log(p);
console.log(problems.length ? `bench:scale FAILED (${problems.length} problems)` : 'bench:scale OK');
phase = 'cleanup';
cleanup();
process.exit(problems.length ? 1 : 0);
