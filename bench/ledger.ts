/**
 * Ledger benchmark: whole-process times of the `gt` CLI at 1,000 and 10,000 beads, each
 * beside a naive baseline that spawns one git process per bead, measured in the same run.
 *
 *   npm run bench:ledger            # 1,000 and 10,000 beads
 *   npm run bench:ledger -- 2000    # other sizes
 *   npm run bench:ledger -- --only-sync   # builds the sizes, then times only gt sync (both cases)
 *   npm run bench:ledger -- --keep        # leaves the rigs and clones in place (for profiling)
 *
 * Targets (2-core machine): import of 10,000 ≤ 5 s; `gt ready --json` over 10,000 ≤ 400 ms
 * cold (a new process); one update ≤ 50 ms; no lost update. Then single-bead commands
 * (show, dep add, create --blocked-by, update) at every size, the sizes interleaved run by
 * run so a busy machine slows them alike: at the largest size within 1.2x of the smallest.
 * Beside them `gt sync` in a second clone holding every bead: when nothing changed
 * (≤ 80 ms at 10,000) and when the other clone changed one bead (≤ 150 ms).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchEnv } from './bench-env.js';

const root = join(import.meta.dirname, '..');
const gtBin = join(root, 'bin', 'gt'); // the launcher users run (npx gt, npm link)
const env = { ...benchEnv, GT_ACTOR: 'bench' };
const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
/** Only what `gt sync` costs: the import and the clone are built, the other figures skipped. */
const onlySync = process.argv.includes('--only-sync');
const keep = process.argv.includes('--keep');

function time(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function gt(cwd: string, args: string[], input?: string): string {
  const r = spawnSync(gtBin, args, { cwd, env, input, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`gt ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function git(cwd: string, args: string[], input?: string): string {
  return execFileSync('git', args, { cwd, env, input, encoding: 'utf8', maxBuffer: 1 << 30 });
}

function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

interface Row {
  what: string;
  ours: number;
  naive: number;
  target?: string;
  /** Min and 90th percentile of the runs, when the figure is a median. */
  spread?: string;
}

function spread(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return `min ${fmt(s[0]!)}, p90 ${fmt(s[Math.floor(s.length * 0.9)]!)} of ${s.length}`;
}

interface Sized {
  n: number;
  rows: Row[];
  rig: string;
  ids: Record<string, string>;
  dir: string;
  /** A second clone of the remote, synced: what `gt sync` costs when another clone changed little. */
  clone: string;
}

function bench(n: number): Sized {
  const dir = mkdtempSync(join(tmpdir(), `gt-bench-${n}-`));
  try {
    const rig = join(dir, 'rig');
    const remote = join(dir, 'remote.git');
    const naive = join(dir, 'naive');
    git(dir, ['init', '-q', '--bare', '-b', 'main', remote]);
    git(dir, ['init', '-q', '-b', 'main', rig]);
    git(dir, ['init', '-q', '-b', 'main', naive]);
    gt(rig, ['init', '--remote', remote]);
    const lines = Array.from({ length: n }, (_, i) =>
      JSON.stringify({
        key: `k${i}`,
        title: `Bead number ${i}`,
        body: `Body of bead ${i}. `.repeat(8),
        priority: i % 5,
        labels: ['bench'],
        ...(i % 10 ? { blocked_by: [`k${i - 1}`] } : {}),
      }),
    );
    const file = join(dir, 'beads.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const rows: Row[] = [];

    // 1. Bulk import.
    let ids: Record<string, string> = {};
    const importMs = time(() => {
      ids = JSON.parse(gt(rig, ['bead', 'import', file, '--json']));
    });
    const naiveImport = onlySync
      ? Number.NaN
      : time(() => {
          // One `git hash-object -w` per bead (the cheapest per-bead write; a real naive writer
          // would also spawn mktree, commit-tree and update-ref for each).
          for (const l of lines) git(naive, ['hash-object', '-w', '--stdin'], l);
        });
    rows.push({ what: `import ${n} beads`, ours: importMs, naive: naiveImport, target: n >= 10000 ? '≤ 5 s' : undefined });
    if (onlySync) {
      gt(rig, ['sync']);
      const clone = join(dir, 'clone');
      git(dir, ['clone', '-q', remote, clone]);
      gt(clone, ['sync']);
      return { n, rows, rig, ids, dir, clone };
    }

    // 2. gt ready --json, new process each time (cache present, as after any write on this machine).
    const readyRuns: number[] = [];
    let readyCount = 0;
    for (let i = 0; i < 5; i++) readyRuns.push(time(() => (readyCount = JSON.parse(gt(rig, ['ready', '--json'])).length)));
    // The same with the derived cache removed (first read after a sync brought everything in).
    const readyNoCache = time(() => {
      rmSync(join(rig, '.git', 'gastown', 'cache'), { recursive: true, force: true });
      gt(rig, ['ready', '--json']);
    });
    const refs = git(rig, ['for-each-ref', '--format=%(refname)', 'refs/gastown/beads/']).trim().split('\n');
    const naiveReady = time(() => {
      for (const r of refs) git(rig, ['cat-file', 'blob', `${r}:bead.json`]);
    });
    rows.push({
      what: `gt ready --json (${readyCount} ready)`,
      ours: median(readyRuns),
      naive: naiveReady,
      target: n >= 10000 ? '≤ 400 ms' : undefined,
      spread: spread(readyRuns),
    });
    rows.push({ what: '  same, list cache removed', ours: readyNoCache, naive: naiveReady });

    // 3. One update. One untimed run first: the first run of a command after a build also
    // compiles the bundle into its code cache (see bin/gt.cjs), once per machine.
    const target = ids['k5']!;
    gt(rig, ['bead', 'update', target, '--title', 'Renamed']);
    const updRuns: number[] = [];
    for (let i = 0; i < 21; i++) updRuns.push(time(() => gt(rig, ['bead', 'update', target, '--title', `Renamed ${i}`])));
    const other = ids['k6']!;
    const naiveUpdate = time(() => {
      // read, write blob, tree, commit, compare-and-swap: one process each.
      const old = git(rig, ['rev-parse', `refs/gastown/beads/${other}`]).trim();
      const json = git(rig, ['cat-file', 'blob', `${old}:bead.json`]).replace(/"title":"[^"]*"/, '"title":"naive"');
      const blob = git(rig, ['hash-object', '-w', '--stdin'], json).trim();
      const tree = git(rig, ['mktree'], `100644 blob ${blob}\tbead.json\n`).trim();
      const commit = git(rig, ['commit-tree', tree, '-p', old, '-F', '-'], `update beads/${other}\n\n${json}`).trim();
      git(rig, ['update-ref', `refs/gastown/beads/${other}`, commit, old]);
    });
    rows.push({ what: 'one bead update', ours: median(updRuns), naive: naiveUpdate, target: '≤ 50 ms', spread: spread(updRuns) });

    // 4. gt sync pushing one changed bead (the remote already holds everything).
    gt(rig, ['sync']);
    gt(rig, ['bead', 'update', target, '--priority', '0']);
    const syncMs = time(() => gt(rig, ['sync']));
    gt(rig, ['bead', 'update', target, '--priority', '1']); // one more change for the naive sync to push
    const naiveSync = time(() => {
      // Naive: fetch, then one ancestry check per ref, then push.
      git(rig, ['fetch', '-q', remote, '+refs/gastown/*:refs/gastown-naive/*']);
      for (const r of refs) git(rig, ['merge-base', '--is-ancestor', r.replace('refs/gastown/', 'refs/gastown-naive/'), r]);
      spawnSync('git', ['push', '-q', remote, 'refs/gastown/*:refs/gastown/*'], { cwd: rig, env });
    });
    rows.push({ what: 'gt sync pushing one changed bead', ours: syncMs, naive: naiveSync });
    // A teammate's clone holding every bead, for the sync figures of singleBead.
    gt(rig, ['sync']);
    const clone = join(dir, 'clone');
    git(dir, ['clone', '-q', remote, clone]);
    const firstSync = time(() => gt(clone, ['sync']));
    rows.push({ what: `a clone's first gt sync (${n} beads in)`, ours: firstSync, naive: naiveSync });
    return { n, rows, rig, ids, dir, clone };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Commands about one bead, which must not grow with the number of beads: per run, each
 * size in turn, so load on a shared machine falls on every size alike. Each run uses its
 * own blocker (the first bead of another chain of ten) so no index grows run over run.
 */
function singleBead(all: Sized[], runs = 11): void {
  const allOps = [
    'gt bead show',
    'gt dep add',
    'gt bead create --blocked-by',
    'gt bead update',
    'gt sync, nothing changed',
    'gt sync, remote changed a bead',
  ] as const;
  const ops = onlySync ? allOps.filter((o) => o.startsWith('gt sync')) : allOps;
  const targets: Record<(typeof allOps)[number], string> = {
    'gt bead show': '≤ 1.2x',
    'gt dep add': '≤ 1.2x',
    'gt bead create --blocked-by': '≤ 1.2x',
    'gt bead update': '≤ 1.2x',
    'gt sync, nothing changed': '≤ 80 ms',
    'gt sync, remote changed a bead': '≤ 150 ms',
  };
  const times = new Map(all.map((s) => [s.n, new Map(ops.map((o) => [o, [] as number[]]))]));
  const once = (s: Sized, i: number, record: boolean) => {
    const blocker = s.ids[`k${10 * (i + 1) + 7}`]!;
    const shown = s.ids[`k${10 * (i + 1) + 5}`]!;
    const target = onlySync ? '' : (JSON.parse(gt(s.rig, ['bead', 'create', `dep target ${i}`, '--json'])).id as string);
    const t = times.get(s.n)!;
    const run = (op: (typeof ops)[number], args: string[]) => {
      const ms = time(() => gt(s.rig, args));
      if (record) t.get(op)!.push(ms);
    };
    if (!onlySync) {
      run('gt bead show', ['bead', 'show', shown]);
      run('gt dep add', ['dep', 'add', target, '--blocked-by', blocker]);
      run('gt bead create --blocked-by', ['bead', 'create', `new ${i}`, '--blocked-by', blocker]);
      run('gt bead update', ['bead', 'update', shown, '--title', `Renamed ${i}`]);
    }
    // The clone catches up on this run's writes (untimed), then syncs with nothing new, then
    // after the rig changed one bead (its new version and the rig's feed entry: two refs).
    gt(s.rig, ['sync']);
    gt(s.clone, ['sync']);
    let idle = '';
    const ms = time(() => {
      idle = gt(s.clone, ['sync']);
    });
    if (!/0 new, 0 fast-forwarded, 0 merged, 0 pushed/.test(idle))
      throw new Error(`the "nothing changed" sync did something: ${idle.trim()}`);
    if (record) t.get('gt sync, nothing changed')!.push(ms);
    // A priority the bead never had (every bead of the form k…5 starts at 0): an update to the
    // value it holds writes nothing, and a run would time "nothing changed" under this name.
    gt(s.rig, ['bead', 'update', shown, '--priority', String(1 + (i % 4))]);
    gt(s.rig, ['sync']);
    let said = '';
    const changed = time(() => {
      said = gt(s.clone, ['sync']);
    });
    if (!/\b[1-9]\d* fast-forwarded/.test(said)) throw new Error(`the timed sync took no change from the remote: ${said.trim()}`);
    if (record) t.get('gt sync, remote changed a bead')!.push(changed);
  };
  for (const s of all) once(s, runs, false); // compiles each command's code cache
  for (let i = 0; i < runs; i++) for (const s of all) once(s, i, true);
  const small = all[0]!;
  const large = all[all.length - 1]!;
  console.log(`\nsingle-bead commands and sync (median of ${runs}, sizes interleaved run by run)`);
  console.log(
    `${'operation'.padEnd(30)} ${all.map((s) => `${s.n} beads`.padStart(13)).join(' ')} ${'ratio'.padStart(7)}  target  spread (min, p90)`,
  );
  for (const op of ops) {
    const med = all.map((s) => median(times.get(s.n)!.get(op)!));
    const ratio = med[med.length - 1]! / med[0]!;
    console.log(
      `${op.padEnd(30)} ${med.map((m) => fmt(m).padStart(13)).join(' ')} ${`${ratio.toFixed(2)}x`.padStart(7)}  ${targets[op]}  ${all.map((s) => `${s.n}: ${spread(times.get(s.n)!.get(op)!)}`).join('; ')}`,
    );
  }
  if (all.length > 1) console.log(`(ratio: ${large.n} beads against ${small.n})`);
}

const runs = sizes.length ? sizes : [1000, 10000];
console.log(`gt ledger benchmark (node ${process.version}, ${runs.join(' and ')} beads; whole-process times)`);
{
  // For scale: what any node process costs here before doing anything (min of 20).
  const floor = Math.min(...Array.from({ length: 20 }, () => time(() => spawnSync(process.execPath, ['-e', '0']))));
  const floorNoCa = Math.min(
    ...Array.from({ length: 20 }, () =>
      time(() => spawnSync(process.execPath, ['-e', '0'], { env: { ...process.env, NODE_EXTRA_CA_CERTS: '' } })),
    ),
  );
  console.log(
    `node -e 0: ${fmt(floor)}${process.env.NODE_EXTRA_CA_CERTS ? ` (${fmt(floorNoCa)} without NODE_EXTRA_CA_CERTS, which gt drops for offline commands)` : ''}`,
  );
  // The floor of any `gt` command: the launcher, node, the bundle and its code cache.
  gt(root, ['--version']);
  const version = Array.from({ length: 21 }, () => time(() => gt(root, ['--version'])));
  console.log(`gt --version: median ${fmt(median(version))}, ${spread(version)}`);
}
const sized: Sized[] = [];
try {
  for (const n of runs) {
    const { rows } = sized[sized.push(bench(n)) - 1]!;
    console.log(`\n${n} beads`);
    console.log(`${'operation'.padEnd(38)} ${'gt'.padStart(10)} ${'naive'.padStart(10)} ${'speed-up'.padStart(9)}  target`);
    for (const r of rows)
      console.log(
        `${r.what.padEnd(38)} ${fmt(r.ours).padStart(10)} ${(Number.isNaN(r.naive) ? '-' : fmt(r.naive)).padStart(10)} ${(Number.isNaN(r.naive) ? '-' : `${(r.naive / r.ours).toFixed(1)}x`).padStart(9)}  ${r.target ?? ''}${r.spread ? `  (median; ${r.spread})` : ''}`,
      );
  }
  singleBead(sized);
} finally {
  for (const s of sized) {
    if (keep) console.log(`kept ${s.n} beads: rig ${s.rig}, clone ${s.clone}`);
    else rmSync(s.dir, { recursive: true, force: true });
  }
}
