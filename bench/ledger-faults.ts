/**
 * The kill race, with the real `gt` CLI: writers run `gt bead update <bead> --add-label`
 * and `gt mail send` one command after another while further `gt` processes are SIGKILLed
 * at a random moment of their life (10 ms after start up to a typical command's whole
 * time under this load, so kills land mid-write and mid-recovery, not only in start-up). Each run then counts acknowledged
 * writes (commands that exited 0) that are missing, refs emptied or dangling, locks left
 * after one more write, and what `git fsck` says.
 *
 *   npm run bench:faults                       # 20 runs, 10 writers × 40 updates
 *   npm run bench:faults -- --runs 5 --writers 4 --updates 10
 *   GT_BIN=/other/checkout/bin/gt.cjs npm run bench:faults   # the same race on another build
 *
 * Target: 0 lost, 0 destroyed, over 20 runs.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchEnv } from './bench-env.js';
import { parseArgs } from 'node:util';
import { ledgerHealth } from '../test/ledger/faults/ledger-health.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    writers: { type: 'string', default: '10' },
    updates: { type: 'string', default: '40' },
    killers: { type: 'string', default: '3' },
  },
});
const root = join(import.meta.dirname, '..');
const gtBin = process.env.GT_BIN ?? join(root, 'bin', 'gt.cjs');
const env = benchEnv;

/** Whole-process times of recent unkilled commands: victims are killed at a random point of such a life. */
const durations: number[] = [];
function killDelay(): number {
  const sorted = [...durations.slice(-50)].sort((a, b) => a - b);
  const typical = sorted[Math.floor(sorted.length / 2)] ?? 60;
  return 10 + Math.random() * Math.max(50, typical - 10);
}

function gt(cwd: string, argv: string[], actor: string, killAfterMs?: number): Promise<number | 'killed'> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [gtBin, ...argv], {
      cwd,
      env: { ...env, GT_ACTOR: actor },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    let killed = false;
    const timer =
      killAfterMs === undefined
        ? null
        : setTimeout(() => {
            if (child.exitCode === null) {
              killed = true;
              try {
                process.kill(-child.pid!, 'SIGKILL');
              } catch {
                /* gone */
              }
            }
          }, killAfterMs);
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      if (!killed && code !== 0) failures.push(stderr.trim().split('\n')[0] ?? `exit ${code}`);
      if (!killed && killAfterMs === undefined) durations.push(Date.now() - started);
      resolve(killed ? 'killed' : (code ?? -1));
    });
  });
}

const failures: string[] = [];

async function oneRun(run: number): Promise<{
  acked: number;
  lost: number;
  destroyed: number;
  locks: number;
  fsck: number;
  killed: number;
  failed: number;
  beadGone: boolean;
}> {
  const dir = mkdtempSync(join(tmpdir(), `gt-faults-${run}-`));
  try {
    execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir, env });
    execFileSync('git', ['commit', '-q', '--allow-empty', '-m', 'root'], { cwd: dir, env });
    execFileSync(process.execPath, [gtBin, 'init'], { cwd: dir, env });
    const bead = JSON.parse(
      execFileSync(process.execPath, [gtBin, 'bead', 'create', 'contested', '--json'], { cwd: dir, env, encoding: 'utf8' }),
    ).id as string;
    const ackedLabels = new Set<string>();
    const ackedMail = new Set<string>();
    let killed = 0;
    let writing = true;
    const failedBefore = failures.length;
    const writers = Array.from({ length: Number(args.writers) }, async (_, w) => {
      for (let i = 0; i < Number(args.updates); i++) {
        const tag = `w${w}-${i}`;
        if ((await gt(dir, ['bead', 'update', bead, '--add-label', tag], `w${w}`)) === 0) ackedLabels.add(tag);
        if (i % 4 === 0 && (await gt(dir, ['mail', 'send', 'mayor', '--subject', tag], `w${w}`)) === 0) ackedMail.add(tag);
      }
    });
    const killers = Array.from({ length: Number(args.killers) }, async (_, k) => {
      for (let n = 0; writing; n++) {
        const tag = `k${k}-${n}`;
        const mail = n % 3 === 0;
        const argv = mail ? ['mail', 'send', 'mayor', '--subject', tag] : ['bead', 'update', bead, '--add-label', tag];
        const code = await gt(dir, argv, `k${k}`, killDelay());
        if (code === 'killed') killed++;
        else if (code === 0) (mail ? ackedMail : ackedLabels).add(tag);
      }
    });
    await Promise.all(writers);
    writing = false;
    await Promise.all(killers);
    // One more write clears what the last victims left on these refs.
    await gt(dir, ['bead', 'update', bead, '--add-label', 'final'], 'checker');
    await gt(dir, ['mail', 'send', 'mayor', '--subject', 'final'], 'checker');
    let labels = new Set<string>();
    let beadGone = false;
    try {
      labels = new Set(
        JSON.parse(execFileSync(process.execPath, [gtBin, 'bead', 'show', bead, '--json'], { cwd: dir, env, encoding: 'utf8' })).bead
          .labels as string[],
      );
    } catch {
      beadGone = true;
    }
    const inbox = JSON.parse(
      execFileSync(process.execPath, [gtBin, 'mail', 'inbox', 'mayor', '--json'], { cwd: dir, env, encoding: 'utf8' }),
    ) as { subject: string }[];
    const subjects = new Set(inbox.map((m) => m.subject));
    const lost = [...ackedLabels].filter((t) => !labels.has(t)).length + [...ackedMail].filter((t) => !subjects.has(t)).length;
    const health = ledgerHealth(dir);
    return {
      acked: ackedLabels.size + ackedMail.size,
      lost,
      destroyed: health.brokenRefs.length,
      locks: health.locks.length,
      fsck: health.fsck.length,
      killed,
      failed: failures.length - failedBefore,
      beadGone,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const totals = { acked: 0, lost: 0, destroyed: 0, locks: 0, fsck: 0, killed: 0, failed: 0, beadGone: 0 };
console.log(
  `kill race: ${args.runs} runs, ${args.writers} writers × ${args.updates} updates (+ a mail every 4th), ${args.killers} killers; gt = ${gtBin}`,
);
for (let run = 1; run <= Number(args.runs); run++) {
  const started = Date.now();
  const r = await oneRun(run);
  for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += Number(r[k]);
  console.log(
    `run ${String(run).padStart(2)}: acknowledged ${r.acked}, lost ${r.lost}, destroyed refs ${r.destroyed}${r.beadGone ? ' (bead gone)' : ''}, locks left ${r.locks}, fsck errors ${r.fsck}, killed ${r.killed}, failed writes ${r.failed} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
}
console.log(
  `total: acknowledged ${totals.acked}, lost ${totals.lost}, destroyed refs ${totals.destroyed}, runs with the bead gone ${totals.beadGone}, locks left ${totals.locks}, fsck errors ${totals.fsck}, killed ${totals.killed}, failed writes ${totals.failed}`,
);
const reasons = new Map<string, number>();
for (const f of failures) reasons.set(f, (reasons.get(f) ?? 0) + 1);
for (const [reason, n] of [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 5)) console.log(`  failed write ×${n}: ${reason}`);
process.exit(totals.lost + totals.destroyed + totals.fsck === 0 ? 0 : 1);
