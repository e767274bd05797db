import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { addDependency, createBead } from '../../src/rig/beads.js';
import { recordMerged } from '../../src/rig/advance.js';
import { recordPlan } from '../../src/rig/record-plan.js';
import { Rig } from '../../src/rig/rig.js';
import type { DoctorCheck } from '../../src/rig/doctor.js';
import type { Bead } from '../../src/town/types.js';
import { gt } from '../cli/run-gt.js';
import { git, initRepo, repoWithRemote, tempDir, TEST_GIT_ENV } from '../helpers/temp-repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

async function freshRig(): Promise<{ dir: string; rig: Rig; run: (args: string[], stdin?: string) => ReturnType<typeof gt> }> {
  const t = tempDir('deps');
  cleanups.push(t.cleanup);
  initRepo(t.path);
  Rig.init(t.path);
  const rig = await Rig.open({ repoDir: t.path, actor: 'ada' });
  cleanups.push(() => rig.close());
  return { dir: t.path, rig, run: (args, stdin) => gt(t.path, args, { stdin }) };
}

async function ok<T>(run: (args: string[], stdin?: string) => ReturnType<typeof gt>, args: string[], stdin?: string): Promise<T> {
  const r = await run([...args, '--json'], stdin);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.json<T>();
}

const show = async (run: Parameters<typeof ok>[0], id: string) =>
  (await ok<{ dependents: string[]; bead: Bead }>(run, ['bead', 'show', id])).dependents;
const stored = async (rig: Rig, id: string) => (await rig.ledger.get<Bead>('beads', id))!.value;
const doctorCheck = (checks: DoctorCheck[]) => checks.find((c) => c.name === 'dependents index')!;

/** Removes the index from every bead, as a rig written by a gastown without it has them. */
async function stripIndex(rig: Rig): Promise<void> {
  const all = await rig.ledger.list<Bead>('beads');
  await rig.ledger.transact((tx) => {
    for (const { id, value } of all) {
      const { dependents: _, ...old } = value;
      tx.put('beads', id, old);
    }
  });
}

describe('gt bead show lists dependents from the index', () => {
  test('after create --blocked-by, dep add, dep rm, close and reopen', async () => {
    const { rig, run } = await freshRig();
    const a = await ok<Bead>(run, ['bead', 'create', 'A']);
    const b = await ok<Bead>(run, ['bead', 'create', 'B', '--blocked-by', a.id]);
    const c = await ok<Bead>(run, ['bead', 'create', 'C']);
    expect(await show(run, a.id)).toEqual([b.id]);
    expect((await stored(rig, a.id)).dependents).toEqual([b.id]);
    expect((await stored(rig, b.id)).dependents).toEqual([]);

    await ok(run, ['dep', 'add', c.id, '--blocked-by', a.id]);
    await ok(run, ['dep', 'add', c.id, '--blocked-by', b.id]);
    expect(await show(run, a.id)).toEqual([b.id, c.id].sort());
    expect(await show(run, b.id)).toEqual([c.id]);

    await ok(run, ['dep', 'rm', b.id, '--blocked-by', a.id]);
    expect(await show(run, a.id)).toEqual([c.id]);
    expect((await stored(rig, a.id)).dependents).toEqual([c.id]);

    // Closing and reopening change no edge: the dependents stay.
    await ok(run, ['bead', 'close', a.id]);
    expect(await show(run, a.id)).toEqual([c.id]);
    await ok(run, ['bead', 'close', c.id]);
    await ok(run, ['bead', 'reopen', a.id]);
    expect(await show(run, a.id)).toEqual([c.id]);
    expect(await show(run, c.id)).toEqual([]);
    // A cycle is still refused, and the refusal writes nothing.
    const cycle = await run(['dep', 'add', a.id, '--blocked-by', c.id]);
    expect(cycle.code).not.toBe(0);
    expect(cycle.stderr).toMatch(/cycle/);
    expect(await show(run, c.id)).toEqual([]);
    expect(await doctorCheck(await ok<DoctorCheck[]>(run, ['doctor']))).toMatchObject({ ok: true });
  });

  test('after import, inside the file and onto beads that existed before', async () => {
    const { rig, run } = await freshRig();
    const old = await ok<Bead>(run, ['bead', 'create', 'Existing']);
    const lines = [
      { key: 'x', title: 'X' },
      { key: 'y', title: 'Y', blocked_by: ['x', old.id] },
      { key: 'z', title: 'Z', blocked_by: ['x', 'y'] },
    ];
    const ids = await ok<Record<string, string>>(run, ['bead', 'import', '-'], lines.map((l) => JSON.stringify(l)).join('\n'));
    expect(await show(run, ids.x!)).toEqual([ids.y!, ids.z!].sort());
    expect(await show(run, ids.y!)).toEqual([ids.z!]);
    expect(await show(run, old.id)).toEqual([ids.y!]);
    expect((await stored(rig, old.id)).dependents).toEqual([ids.y!]);
    // The import's feed event landed in the same transaction.
    expect((await ok<{ message: string }[]>(run, ['feed'])).map((e) => e.message)).toContain('imported 3 beads');
  });

  test("after the Mayor's recordPlan", async () => {
    const { rig, run } = await freshRig();
    const step = (key: string, blockedBy: string[] = []) => ({
      key,
      title: `Step ${key}`,
      description: 'd',
      acceptance: [],
      files: [],
      blockedBy,
    });
    const plan = { summary: 's', beads: [step('api'), step('ui', ['api']), step('docs', ['api', 'ui'])] };
    const { beads } = await recordPlan(rig, {
      sourceKey: 'local:deps',
      title: 'Plan',
      source: { kind: 'local' },
      plan,
      planner: 'checklist',
      usage: null,
      requireApproval: false,
    });
    const id = (key: string) => beads.find((b) => b.key === key)!.id;
    expect(await show(run, id('api'))).toEqual([id('ui'), id('docs')].sort());
    expect(await show(run, id('ui'))).toEqual([id('docs')]);
    expect((await stored(rig, id('docs'))).dependents).toEqual([]);
  });

  test('a merge frees the dependents whose other blockers are closed (read from the index)', async () => {
    const { rig } = await freshRig();
    const a = await createBead(rig, { title: 'A' });
    const b = await createBead(rig, { title: 'B' });
    const c = await createBead(rig, { title: 'C', blockedBy: [a.id] });
    const d = await createBead(rig, { title: 'D', blockedBy: [a.id, b.id] });
    expect((await recordMerged(rig, a.id)).newlyReady.map((x) => x.id)).toEqual([c.id]);
    expect((await recordMerged(rig, b.id)).newlyReady.map((x) => x.id)).toEqual([d.id]);
  });

  test('two concurrent edges that would close a cycle: one lands, the other is refused', async () => {
    const { dir, rig } = await freshRig();
    const a = await createBead(rig, { title: 'A' });
    const b = await createBead(rig, { title: 'B' });
    const other = await Rig.open({ repoDir: dir, actor: 'bob' });
    cleanups.push(() => other.close());
    const results = await Promise.allSettled([addDependency(rig, a.id, b.id), addDependency(other, b.id, a.id)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'gastown_cycle' } });
  });
});

describe('concurrent writers', () => {
  test('processes adding dependents to one blocker at once all land in its index', async () => {
    const { dir, rig } = await freshRig();
    const blocker = await createBead(rig, { title: 'Blocker' });
    const waiting = await Promise.all(Array.from({ length: 6 }, (_, i) => createBead(rig, { title: `Waiting ${i}` })));
    const worker = (who: string, existing: string[]) =>
      new Promise<string[]>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', join(import.meta.dirname, 'workers', 'dep-worker.ts'), dir, blocker.id, who, '4', ...existing],
          {
            stdio: ['ignore', 'pipe', 'inherit'],
            env: TEST_GIT_ENV,
          },
        );
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as string[]) : reject(new Error(`${who} exited ${code}`))));
      });

    const made = (
      await Promise.all([
        worker(
          'w1',
          waiting.slice(0, 3).map((b) => b.id),
        ),
        worker(
          'w2',
          waiting.slice(3).map((b) => b.id),
        ),
        worker('w3', []),
      ])
    ).flat();

    expect(made).toHaveLength(6 + 12);
    expect((await stored(rig, blocker.id)).dependents).toEqual([...made].sort());
    expect(await show(async (args) => gt(dir, args), blocker.id)).toEqual([...made].sort());
  }, 120_000);
});

describe('gt sync', () => {
  async function twoClones() {
    const root = tempDir('deps-sync');
    cleanups.push(root.cleanup);
    const { remote, clone } = repoWithRemote(root.path);
    const second = join(root.path, 'rig-b');
    git(root.path, ['clone', '-q', remote, second]);
    const open = async (d: string, actor: string) => {
      Rig.init(d, { remote });
      const rig = await Rig.open({ repoDir: d, actor });
      cleanups.push(() => rig.close());
      return { dir: d, rig, run: (args: string[]) => gt(d, args, { actor }) };
    };
    return { a: await open(clone, 'ada'), b: await open(second, 'bob') };
  }

  test('two clones adding different dependents to one blocker offline both end with both', async () => {
    const { a, b } = await twoClones();
    const blocker = await ok<Bead>(a.run, ['bead', 'create', 'Blocker']);
    const later = await ok<Bead>(a.run, ['bead', 'create', 'Later']);
    for (const side of [a, b]) expect((await side.run(['sync'])).code).toBe(0);

    // Offline: A creates a dependent, B adds an edge from an existing bead.
    const fromA = await ok<Bead>(a.run, ['bead', 'create', 'From A', '--blocked-by', blocker.id]);
    await ok(b.run, ['dep', 'add', later.id, '--blocked-by', blocker.id]);
    for (const side of [a, b, a]) expect((await side.run(['sync'])).code).toBe(0);

    for (const side of [a, b]) {
      expect(await show(side.run, blocker.id)).toEqual([fromA.id, later.id].sort());
      expect((await stored(side.rig, blocker.id)).dependents).toEqual([fromA.id, later.id].sort());
      expect(doctorCheck(await ok<DoctorCheck[]>(side.run, ['doctor']))).toMatchObject({ ok: true });
    }
    expect(git(a.dir, ['rev-parse', `refs/gastown/beads/${blocker.id}`])).toBe(
      git(b.dir, ['rev-parse', `refs/gastown/beads/${blocker.id}`]),
    );
  });

  test('an edge written without the index (an older gastown) is indexed by the clone that syncs it in', async () => {
    const { a, b } = await twoClones();
    const blocker = await ok<Bead>(a.run, ['bead', 'create', 'Blocker']);
    for (const side of [a, b]) expect((await side.run(['sync'])).code).toBe(0);
    // B's writer knows nothing of the index: it writes a bead with the edge and nothing else.
    const { dependents: _, ...plain } = await stored(a.rig, blocker.id);
    const old = { ...plain, id: 'gt-0ld1', title: 'Old writer', blockedBy: [blocker.id] };
    await b.rig.ledger.transact((tx) => tx.put('beads', old.id, old));

    for (const side of [b, a, b]) expect((await side.run(['sync'])).code).toBe(0);

    for (const side of [a, b]) {
      expect((await stored(side.rig, blocker.id)).dependents).toEqual([old.id]);
      expect(await show(side.run, blocker.id)).toEqual([old.id]);
    }
  });
});

describe('gt doctor', () => {
  test('names a wrong index and --fix rebuilds it', async () => {
    const { rig, run } = await freshRig();
    const a = await createBead(rig, { title: 'A' });
    const b = await createBead(rig, { title: 'B', blockedBy: [a.id] });
    const c = await createBead(rig, { title: 'C' });
    // Damage: A forgets B, C claims B waits on it.
    await rig.ledger.transact(async (tx) => {
      tx.put('beads', a.id, { ...(await tx.get<Bead>('beads', a.id))!, dependents: [] });
      tx.put('beads', c.id, { ...(await tx.get<Bead>('beads', c.id))!, dependents: [b.id] });
    });

    const found = await run(['doctor', '--json']);
    expect(found.code).toBe(1);
    const check = doctorCheck(found.json<DoctorCheck[]>());
    expect(check.ok).toBe(false);
    expect(check.detail).toContain(`${a.id} misses ${b.id}`);
    expect(check.detail).toContain(`${c.id} lists ${b.id}`);
    // Readers check the beads the index names: C's stale entry is not shown.
    expect(await show(run, c.id)).toEqual([]);

    const fixed = await run(['doctor', '--fix', '--json']);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(doctorCheck(fixed.json<DoctorCheck[]>())).toMatchObject({
      ok: true,
      detail: expect.stringContaining('rebuilt the index of 2 beads'),
    });
    expect((await stored(rig, a.id)).dependents).toEqual([b.id]);
    expect((await stored(rig, c.id)).dependents).toEqual([]);
    expect(await show(run, a.id)).toEqual([b.id]);
  });
});

describe('a rig written before the index', () => {
  test('show scans for beads without an index; writes build it; doctor --fix builds the rest', async () => {
    const { rig, run } = await freshRig();
    const a = await createBead(rig, { title: 'A' });
    const b = await createBead(rig, { title: 'B', blockedBy: [a.id] });
    const c = await createBead(rig, { title: 'C', blockedBy: [b.id] });
    const d = await createBead(rig, { title: 'D', blockedBy: [a.id] });
    await stripIndex(rig);
    expect((await stored(rig, a.id)).dependents).toBeUndefined();

    expect(await show(run, a.id)).toEqual([b.id, d.id].sort());
    expect(await show(run, b.id)).toEqual([c.id]);
    const before = doctorCheck(await ok<DoctorCheck[]>(run, ['doctor']));
    expect(before).toMatchObject({ ok: true, detail: expect.stringContaining('4 of 4 beads predate the index') });

    // A new dependent of an old bead: the blocker's index is built (by a scan) with it.
    const e = await ok<Bead>(run, ['bead', 'create', 'E', '--blocked-by', a.id]);
    expect((await stored(rig, a.id)).dependents).toEqual([b.id, d.id, e.id].sort());
    // Removing an edge from an old bead leaves it without an index: its readers still scan.
    await ok(run, ['dep', 'rm', c.id, '--blocked-by', b.id]);
    expect((await stored(rig, b.id)).dependents).toBeUndefined();
    expect(await show(run, b.id)).toEqual([]);

    const fixed = doctorCheck(await ok<DoctorCheck[]>(run, ['doctor', '--fix']));
    expect(fixed).toMatchObject({ ok: true, detail: expect.stringContaining('matches the edges of 5 beads') });
    expect((await stored(rig, b.id)).dependents).toEqual([]);
    expect((await stored(rig, c.id)).dependents).toEqual([]);
    expect(await show(run, a.id)).toEqual([b.id, d.id, e.id].sort());
  });
});
