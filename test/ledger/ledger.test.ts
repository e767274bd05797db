import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.js';
import { git, initRepo, tempDir } from '../helpers/temp-repo.js';
import { TOWN_KINDS } from '../../src/rig/town-kinds.js';

const workers = join(import.meta.dirname, 'workers');

/** Lock files under the ledger's refs. */
function ledgerLocks(dir: string): string[] {
  return readdirSync(join(dir, '.git', 'refs', 'gastown'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.lock'));
}
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function fresh(opts: { prefix?: string; staleLockMs?: number } = {}) {
  const dir = tempDir('ledger');
  cleanups.push(dir.cleanup);
  initRepo(dir.path);
  const ledger = await Ledger.open({ kinds: TOWN_KINDS, repoDir: dir.path, ...opts });
  cleanups.push(() => ledger.close());
  return { dir: dir.path, ledger };
}

function runWorker(script: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(workers, script), ...args], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
    });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? -1));
  });
}

describe('documents', () => {
  test('put, get, list and history round-trip through git commits', async () => {
    const { dir, ledger } = await fresh();

    await ledger.transact((tx) => tx.put('beads', 'gt-a1b2', { id: 'gt-a1b2', title: 'first' }), { actor: 'alice' });
    await ledger.transact(
      async (tx) => {
        const b = await tx.get<{ id: string; title: string }>('beads', 'gt-a1b2');
        tx.put('beads', 'gt-a1b2', { ...b!, title: 'second' });
      },
      { actor: 'nux' },
    );

    expect((await ledger.get('beads', 'gt-a1b2'))?.value).toEqual({ id: 'gt-a1b2', title: 'second' });
    expect((await ledger.list('beads')).map((v) => v.value)).toEqual([{ id: 'gt-a1b2', title: 'second' }]);
    const history = await ledger.history<{ title: string }>('beads', 'gt-a1b2');
    expect(history.map((h) => [h.actor, h.value.title])).toEqual([
      ['nux', 'second'],
      ['alice', 'first'],
    ]);
    // A person can read the same state with plain git.
    expect(JSON.parse(git(dir, ['show', 'refs/gastown/beads/gt-a1b2:bead.json']))).toEqual({ id: 'gt-a1b2', title: 'second' });
    expect(await ledger.get('beads', 'gt-none')).toBeNull();
  });

  test('a commit written by plain git (tree only, any message) is read from its tree', async () => {
    const { dir, ledger } = await fresh();
    await ledger.transact((tx) => tx.put('beads', 'gt-9a9a', { id: 'gt-9a9a', title: 'from gastown' }));
    const old = git(dir, ['rev-parse', 'refs/gastown/beads/gt-9a9a']);
    const { execFileSync } = await import('node:child_process');
    const run = (args: string[], input?: string) =>
      execFileSync('git', args, {
        cwd: dir,
        input,
        encoding: 'utf8',
        env: {
          ...process.env,
          GIT_CONFIG_GLOBAL: '/dev/null',
          GIT_AUTHOR_NAME: 'p',
          GIT_AUTHOR_EMAIL: 'p@x',
          GIT_COMMITTER_NAME: 'p',
          GIT_COMMITTER_EMAIL: 'p@x',
        },
      }).trim();
    const b = run(['hash-object', '-w', '--stdin'], JSON.stringify({ id: 'gt-9a9a', title: 'edited by hand' }));
    const tree = run(['mktree'], `100644 blob ${b}\tbead.json\n`);
    const commit = run(['commit-tree', tree, '-p', old, '-m', 'manual edit']);
    run(['update-ref', 'refs/gastown/beads/gt-9a9a', commit, old]);

    expect((await ledger.get<{ title: string }>('beads', 'gt-9a9a'))!.value.title).toBe('edited by hand');
    expect((await ledger.list<{ title: string }>('beads'))[0]!.value.title).toBe('edited by hand');
    await ledger.transact(async (tx) => {
      const v = await tx.get<{ id: string; title: string }>('beads', 'gt-9a9a');
      tx.put('beads', 'gt-9a9a', { ...v!, title: `${v!.title}, then by gastown` });
    });
    expect((await ledger.get<{ title: string }>('beads', 'gt-9a9a'))!.value.title).toBe('edited by hand, then by gastown');
  });

  test('a transaction over several refs commits all of them or none', async () => {
    const { ledger } = await fresh();
    await ledger.transact((tx) => tx.put('hooks', 'nux', { agent: 'nux', bead: 'gt-0001' }));
    const stale = (await ledger.get('hooks', 'nux'))!.oid;
    await ledger.transact((tx) => tx.put('hooks', 'nux', { agent: 'nux', bead: 'gt-0002' }));

    // A write that expects an old version fails as a whole: the bead ref is not created either.
    const ok = await ledger.setRefs([
      { ref: ledger.ref('beads', 'gt-0003'), newOid: stale, oldOid: null },
      { ref: ledger.ref('hooks', 'nux'), newOid: stale, oldOid: stale },
    ]);

    expect(ok).toBe(false);
    expect(await ledger.get('beads', 'gt-0003')).toBeNull();
    expect((await ledger.get<{ bead: string }>('hooks', 'nux'))?.value.bead).toBe('gt-0002');
  });

  test('the list cache never serves a value its ref no longer points at', async () => {
    const { ledger, dir } = await fresh();
    await ledger.createMany(
      'beads',
      [1, 2, 3].map((i) => ({ id: `gt-000${i}`, value: { n: i } })),
    );
    expect((await ledger.list<{ n: number }>('beads')).map((v) => v.value.n).sort()).toEqual([1, 2, 3]);

    // Another process (here: plain git) moves a ref behind the cache's back.
    git(dir, ['update-ref', 'refs/gastown/beads/gt-0001', git(dir, ['rev-parse', 'refs/gastown/beads/gt-0003'])]);

    expect((await ledger.list<{ n: number }>('beads')).map((v) => v.value.n).sort()).toEqual([2, 3, 3]);
  });

  test('a configurable prefix keeps everything under it (e.g. refs/heads/ for strict hosts)', async () => {
    const { dir, ledger } = await fresh({ prefix: 'refs/heads/gastown-ledger/' });
    await ledger.transact((tx) => tx.put('beads', 'gt-p1p1', { id: 'gt-p1p1' }));
    expect(git(dir, ['for-each-ref', '--format=%(refname)', 'refs/heads/gastown-ledger/'])).toBe('refs/heads/gastown-ledger/beads/gt-p1p1');
    await expect(Ledger.open({ kinds: TOWN_KINDS, repoDir: dir, prefix: 'gastown' })).rejects.toMatchObject({ code: 'gastown_config' });
  });
});

describe('chains', () => {
  test('appends keep every entry in order and record the actor', async () => {
    const { ledger } = await fresh();
    for (let i = 0; i < 5; i++) await ledger.append('mail', 'nux', { id: `m${i}` }, { actor: `sender${i}` });
    const entries = await ledger.readChain<{ id: string }>('mail', 'nux');
    expect(entries.map((e) => e.value.id)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(entries.map((e) => e.actor)).toEqual(['sender0', 'sender1', 'sender2', 'sender3', 'sender4']);
    expect(await ledger.readChain('mail', 'nobody')).toEqual([]);
  });
});

// Small transactions go straight to the ref files; deletes and bulk writes go through
// `git update-ref`. Both paths must keep every promise, so both run the same races and kills.
describe.each([
  { path: 'ref files', refPath: 'direct', width: 24 },
  { path: 'git update-ref', refPath: 'git', width: 300 },
])('concurrency and crashes ($path)', ({ refPath, width }) => {
  test('8 processes racing 50 writes each on one bead and one inbox lose nothing', async () => {
    const { dir, ledger } = await fresh();

    const codes = await Promise.all(Array.from({ length: 8 }, (_, w) => runWorker('race-worker.ts', [dir, `w${w}`, '50', refPath])));

    expect(codes).toEqual(Array(8).fill(0));
    const bead = (await ledger.get<{ hits: string[] }>('beads', 'gt-race'))!.value;
    expect(bead.hits).toHaveLength(400);
    expect(new Set(bead.hits).size).toBe(400);
    const inbox = await ledger.readChain<{ id: string }>('mail', 'mayor');
    expect(inbox).toHaveLength(400);
    expect(new Set(inbox.map((m) => m.value.id)).size).toBe(400);
    // Each writer's own entries stay in the order it wrote them.
    for (let w = 0; w < 8; w++) {
      const mine = bead.hits.filter((h) => h.startsWith(`w${w}:`)).map((h) => Number(h.split(':')[1]));
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
    }
  }, 120_000);

  test('a writer killed with SIGKILL mid-transaction leaves a ledger the next writer uses without repair', async () => {
    const { dir } = await fresh();

    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', join(workers, 'crash-worker.ts'), dir, String(width), refPath], {
        detached: true, // its own process group: the kill takes its git children down too
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
      });
      await new Promise<void>((r) => child.stdout!.once('data', () => r()));
      await new Promise((r) => setTimeout(r, 400 + round * 137));
      process.kill(-child.pid!, 'SIGKILL');
      await new Promise((r) => child.once('close', r));
      // The writer's `git update-ref` is in a process group of its own and outlives the
      // kill by the moment it needs to finish or abort (readers of several refs see a
      // commit in progress, as with git itself): wait for its locks to go.
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && ledgerLocks(dir).length) await new Promise((r) => setTimeout(r, 20));

      const next = await Ledger.open({ kinds: TOWN_KINDS, repoDir: dir, staleLockMs: 60_000 });
      const values = await next.list<{ n: number }>('beads');
      // All or nothing: every ref of the wide transaction holds the same counter.
      expect(values).toHaveLength(width);
      expect(new Set(values.map((v) => v.value.n)).size).toBe(1);
      // And the next write goes through at once, with no manual clean-up.
      const started = Date.now();
      await next.transact((tx) => {
        for (let i = 0; i < width; i++) tx.put('beads', `gt-w${i}`, { id: `gt-w${i}`, n: 1_000_000 + round });
      });
      expect(Date.now() - started).toBeLessThan(5_000);
      next.close();
    }
  }, 120_000);
});

describe('hooks', () => {
  test("a repository's reference-transaction hook sees every ledger write (git makes them)", async () => {
    const dir = tempDir('ledger-hook');
    cleanups.push(dir.cleanup);
    initRepo(dir.path);
    const seen = join(dir.path, 'seen.txt');
    writeFileSync(
      join(dir.path, '.git', 'hooks', 'reference-transaction'),
      `#!/bin/sh\nif [ "$1" = committed ]; then cat >> '${seen}'; fi\n`,
      { mode: 0o755 },
    );
    const ledger = await Ledger.open({ kinds: TOWN_KINDS, repoDir: dir.path });
    cleanups.push(() => ledger.close());

    await ledger.transact((tx) => tx.put('beads', 'gt-hook', { v: 1 }));
    await ledger.append('mail', 'nux', { id: 'm1' });

    const lines = readFileSync(seen, 'utf8');
    expect(lines).toContain('refs/gastown/beads/gt-hook');
    expect(lines).toContain('refs/gastown/mail/nux');
  });
});

describe('crash safety', () => {
  /** The id of a process that has exited: what a killed writer leaves behind. */
  async function deadOwner(nonce: string): Promise<string> {
    const pid = await new Promise<number>((r) => {
      const c = spawn('true');
      c.on('close', () => r(c.pid!));
    });
    const { hostname } = await import('node:os');
    return `${pid}.1.${nonce}@${hostname()
      .replace(/[^A-Za-z0-9.-]/g, '_')
      .slice(0, 64)}`;
  }
  const lockText = (owner: string) => `gastown-lock ${owner}\n`;

  test.each([true, false])(
    "a dead writer's transaction past its commit point is rolled forward; its lock from before one is freed, its value kept (recoverer writes ref files itself: %s)",
    async (direct) => {
      const { dir, ledger } = await fresh();
      await ledger.transact((tx) => {
        tx.put('beads', 'gt-aaaa', { v: 1 });
        tx.put('hooks', 'nux', { v: 1 });
        tx.put('beads', 'gt-bbbb', { v: 1 });
      });
      const [a1, n1, b1] = await Promise.all(
        [
          ['beads', 'gt-aaaa'],
          ['hooks', 'nux'],
          ['beads', 'gt-bbbb'],
        ].map(async ([k, id]) => (await ledger.get(k as 'beads', id!))!.oid),
      );
      const a2 = ledger.writeValueCommit('beads', { v: 2 }, [a1!], 'update', 't');
      const n2 = ledger.writeValueCommit('hooks', { v: 2 }, [n1!], 'update', 't');
      const b2 = ledger.writeValueCommit('beads', { v: 2 }, [b1!], 'update', 't');
      // One dead writer placed gt-aaaa and died before hooks/nux (its record is the commit
      // point); another died holding the lock of gt-bbbb before any record (nothing placed).
      const first = await deadOwner('aa');
      const second = await deadOwner('bb');
      git(dir, ['update-ref', 'refs/gastown/beads/gt-aaaa', a2, a1!]);
      const txnDir = join(dir, '.git', 'gastown', 'txn');
      mkdirSync(txnDir, { recursive: true });
      writeFileSync(
        join(txnDir, `${first}.0.json`),
        JSON.stringify({
          path: 'files',
          owner: first,
          updates: [
            { ref: 'refs/gastown/beads/gt-aaaa', newOid: a2, oldOid: a1 },
            { ref: 'refs/gastown/hooks/nux', newOid: n2, oldOid: n1 },
          ],
        }),
      );
      writeFileSync(join(dir, '.git', 'refs', 'gastown', 'hooks', 'nux.lock'), lockText(first));
      writeFileSync(join(dir, '.git', 'refs', 'gastown', 'beads', 'gt-bbbb.lock'), lockText(second));
      void b2;

      const reopened = await Ledger.open({ kinds: TOWN_KINDS, repoDir: dir, directRefs: direct });

      expect((await reopened.get('hooks', 'nux'))!.oid).toBe(n2);
      expect((await reopened.get('beads', 'gt-aaaa'))!.oid).toBe(a2);
      expect(existsSync(join(dir, '.git', 'refs', 'gastown', 'hooks', 'nux.lock'))).toBe(false);
      expect(readdirSync(txnDir)).toEqual([]);
      // The second writer's lock goes when a write meets it; its ref keeps the old value.
      expect((await reopened.get('beads', 'gt-bbbb'))!.oid).toBe(b1);
      await reopened.transact((tx) => tx.put('beads', 'gt-bbbb', { v: 3 }));
      expect((await reopened.get('beads', 'gt-bbbb'))!.value).toEqual({ v: 3 });
      reopened.close();
    },
  );

  test('an orphan record of a dead writer never frees a lock a live writer holds', async () => {
    const { dir, ledger } = await fresh();
    await ledger.transact((tx) => tx.put('beads', 'gt-live', { v: 1 }));
    const v1 = (await ledger.get('beads', 'gt-live'))!.oid;
    const v2 = ledger.writeValueCommit('beads', { v: 2 }, [v1], 'update', 't');
    const dead = await deadOwner('dd');
    // This process is alive: a lock naming it is a live writer's, whatever a record says.
    const live = `${process.pid}.${(await import('node:fs')).readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[19]}.ee@${(
      await import('node:os')
    )
      .hostname()
      .replace(/[^A-Za-z0-9.-]/g, '_')
      .slice(0, 64)}`;
    const lock = join(dir, '.git', 'refs', 'gastown', 'beads', 'gt-live.lock');
    writeFileSync(lock, lockText(live));
    const txnDir = join(dir, '.git', 'gastown', 'txn');
    mkdirSync(txnDir, { recursive: true });
    writeFileSync(
      join(txnDir, `${dead}.0.json`),
      JSON.stringify({
        path: 'files',
        owner: dead,
        updates: [
          { ref: 'refs/gastown/beads/gt-live', newOid: v2, oldOid: v1 },
          { ref: 'refs/gastown/hooks/other', newOid: v2, oldOid: null },
        ],
      }),
    );

    const other = await Ledger.open({ kinds: TOWN_KINDS, repoDir: dir, lockTimeoutMs: 300 });
    cleanups.push(() => other.close());

    expect(readFileSync(lock, 'utf8')).toBe(lockText(live));
    expect((await other.get('beads', 'gt-live'))!.oid).toBe(v1);
    expect(readdirSync(txnDir)).toEqual([]);
    await expect(other.transact((tx) => tx.put('beads', 'gt-live', { v: 9 }))).rejects.toMatchObject({ code: 'gastown_locked' });
    expect(readFileSync(lock, 'utf8')).toBe(lockText(live));
  });

  test('git killed mid-commit beside its writer: recovery finishes its commit from the locks it identified', async () => {
    const { dir, ledger } = await fresh();
    await ledger.transact((tx) => {
      tx.put('beads', 'gt-g1', { v: 1 });
      tx.put('beads', 'gt-g2', { v: 1 });
    });
    const g1 = (await ledger.get('beads', 'gt-g1'))!.oid;
    const g2 = (await ledger.get('beads', 'gt-g2'))!.oid;
    const n1 = ledger.writeValueCommit('beads', { v: 2 }, [g1], 'update', 't');
    const n2 = ledger.writeValueCommit('beads', { v: 2 }, [g2], 'update', 't');
    const owner = await deadOwner('gg');
    const gitPid = Number(owner.split('.')[0]);
    // git renamed gt-g1's lock into place, then died holding gt-g2's (which holds the new value).
    git(dir, ['update-ref', 'refs/gastown/beads/gt-g1', n1, g1]);
    const lock = join(dir, '.git', 'refs', 'gastown', 'beads', 'gt-g2.lock');
    writeFileSync(lock, `${n2}\n`);
    const { statSync } = await import('node:fs');
    const st = statSync(lock, { bigint: true });
    const txnDir = join(dir, '.git', 'gastown', 'txn');
    mkdirSync(txnDir, { recursive: true });
    writeFileSync(
      join(txnDir, `${owner}.0.json`),
      JSON.stringify({
        path: 'git',
        owner,
        gitPid,
        gitStart: '1',
        packedLock: null,
        updates: [
          { ref: 'refs/gastown/beads/gt-g1', newOid: n1, oldOid: g1 },
          { ref: 'refs/gastown/beads/gt-g2', newOid: n2, oldOid: g2 },
        ],
        locks: { 'refs/gastown/beads/gt-g2': { ino: st.ino.toString(), ctimeNs: st.ctimeNs.toString() } },
      }),
    );
    // A lock git made for someone else (another inode) is never touched.
    const foreign = join(dir, '.git', 'refs', 'gastown', 'beads', 'gt-g3.lock');
    writeFileSync(foreign, `${n2}\n`);

    const reopened = await Ledger.open({ kinds: TOWN_KINDS, repoDir: dir, directRefs: false });
    cleanups.push(() => reopened.close());

    expect((await reopened.get('beads', 'gt-g2'))!.oid).toBe(n2);
    expect(existsSync(lock)).toBe(false);
    expect(existsSync(foreign)).toBe(true);
    expect(readdirSync(txnDir)).toEqual([]);
  });

  test('a lock that names no gastown writer is waited for, then refused with a clear error; gt doctor --fix may remove it once stale', async () => {
    const { dir } = await fresh();
    const ledger = await Ledger.open({ kinds: TOWN_KINDS, repoDir: dir, staleLockMs: 300, lockTimeoutMs: 300 });
    cleanups.push(() => ledger.close());
    mkdirSync(join(dir, '.git', 'refs', 'gastown', 'beads'), { recursive: true });
    const lock = join(dir, '.git', 'refs', 'gastown', 'beads', 'gt-lock.lock');
    writeFileSync(lock, 'x');

    await expect(ledger.transact((tx) => tx.put('beads', 'gt-lock', { ok: true }))).rejects.toThrow(
      /not a gastown writer's.*gt doctor --fix/,
    );
    expect(ledger.locks().map((l) => [l.path, l.state])).toEqual([[lock, 'foreign']]);
    await new Promise((r) => setTimeout(r, 350));
    expect((await ledger.clearLocks()).removed).toEqual([lock]);
    await ledger.transact((tx) => tx.put('beads', 'gt-lock', { ok: true }));

    expect((await ledger.get('beads', 'gt-lock'))?.value).toEqual({ ok: true });
  });
});

describe('bulk writes', () => {
  test('createMany writes one packfile that git itself verifies, and packs the refs', async () => {
    const { dir, ledger } = await fresh();
    const items = Array.from({ length: 1200 }, (_, i) => ({ id: `gt-k${i}`, value: { id: `gt-k${i}`, n: i, text: 'é'.repeat(i % 50) } }));

    await ledger.createMany('beads', items);

    const packs = git(dir, ['count-objects', '-v']).match(/in-pack: (\d+)/)![1];
    expect(Number(packs)).toBe(3600);
    const pack = git(dir, ['rev-parse', '--git-path', 'objects/pack']);
    const idx = (await import('node:fs')).readdirSync(join(dir, pack)).find((f) => f.endsWith('.idx'))!;
    expect(git(dir, ['verify-pack', '-v', join(dir, pack, idx)])).toMatch(/ok$/);
    expect(git(dir, ['fsck', '--no-dangling', '--strict'])).not.toMatch(/error|missing|broken/i);
    expect(git(dir, ['show', 'refs/gastown/beads/gt-k77:bead.json'])).toBe(JSON.stringify(items[77]!.value));
    // A fresh reader without the cache sees every value.
    const { rmSync } = await import('node:fs');
    rmSync(join(dir, '.git', 'gastown', 'cache'), { recursive: true, force: true });
    const listed = await ledger.list<{ n: number }>('beads');
    expect(listed.map((v) => v.value.n).sort((a, b) => a - b)).toEqual(items.map((i) => i.value.n));
    // A second bulk create of an existing id fails as a whole.
    await expect(
      ledger.createMany('beads', [
        { id: 'gt-new1', value: {} },
        { id: 'gt-k1', value: {} },
      ]),
    ).rejects.toMatchObject({ code: 'gastown_conflict' });
    expect(await ledger.get('beads', 'gt-new1')).toBeNull();
  });

  test("createMany's `also` commits with the creates, and only it re-runs when one of its refs moved", async () => {
    const { ledger } = await fresh();
    await ledger.transact((tx) => tx.put('beads', 'gt-old1', { id: 'gt-old1', links: [] as string[] }));
    const items = Array.from({ length: 40 }, (_, i) => ({ id: `gt-n${i}`, value: { id: `gt-n${i}` } }));
    let runs = 0;

    const result = await ledger.createMany('beads', items, {}, async (tx) => {
      runs++;
      const old = (await tx.get<{ id: string; links: string[] }>('beads', 'gt-old1'))!;
      // The first run loses a race: another writer changes the same bead before the commit.
      if (runs === 1)
        await ledger.transact(async (t2) =>
          t2.put('beads', 'gt-old1', { ...(await t2.get<object>('beads', 'gt-old1')), links: ['other'] }),
        );
      tx.put('beads', 'gt-old1', { ...old, links: [...old.links, 'bulk'] });
      tx.append('feed', 'w', { n: items.length });
      return runs;
    });

    expect(result).toBe(2);
    expect((await ledger.get<{ links: string[] }>('beads', 'gt-old1'))!.value.links).toEqual(['other', 'bulk']);
    expect(
      await ledger.getMany(
        'beads',
        items.map((i) => i.id),
      ),
    ).toHaveLength(40);
    expect(await ledger.readChain('feed', 'w')).toHaveLength(1);
    // A create that clashes with an existing ref still fails as a whole, `also` included.
    await expect(
      ledger.createMany('beads', [{ id: 'gt-n1', value: {} }], {}, (tx) => tx.append('feed', 'w', { n: 0 })),
    ).rejects.toMatchObject({ code: 'gastown_conflict' });
    expect(await ledger.readChain('feed', 'w')).toHaveLength(1);
  });

  test('countRefs counts packed and loose refs once each; exists sees tombstones', async () => {
    const { dir, ledger } = await fresh();
    await ledger.createMany(
      'beads',
      Array.from({ length: 50 }, (_, i) => ({ id: `gt-p${i}`, value: { i } })),
    );
    git(dir, ['pack-refs', '--all']);
    // Loose only, packed only, and both (updated since the pack).
    await ledger.transact(async (tx) => {
      tx.put('beads', 'gt-loose', {});
      tx.put('beads', 'gt-p3', { i: 'again' });
    });
    await ledger.transact((tx) => tx.delete('beads', 'gt-p4'));
    await ledger.transact((tx) => tx.put('convoys', 'cv-1', {}));

    expect(await ledger.countRefs('beads/')).toBe(51);
    expect(await ledger.countRefs('beads/')).toBe((await ledger.refs('beads/')).size);
    expect(await ledger.countRefs('convoys/')).toBe(1);
    expect(await ledger.countRefs('agents/')).toBe(0);
    // Everything packed (a kind's run with another kind after it), then a packed-refs git did
    // not write sorted (another tool's): the convoy's line in the middle of the beads' run.
    git(dir, ['pack-refs', '--all']);
    expect(await ledger.countRefs('beads/')).toBe(51);
    expect(await ledger.countRefs('convoys/')).toBe(1);
    const file = join(dir, '.git', 'packed-refs');
    const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
    const convoy = lines.find((l) => l.includes('/convoys/'))!;
    const beads = lines.filter((l) => l !== convoy);
    writeFileSync(file, `# pack-refs with: peeled\n${[...beads.slice(0, 20), convoy, ...beads.slice(20)].join('\n')}\n`);
    expect(await ledger.countRefs('beads/')).toBe(51);
    expect(await ledger.countRefs('convoys/')).toBe(1);
    expect(await ledger.exists('beads', 'gt-p4')).toBe(true);
    expect(await ledger.get('beads', 'gt-p4')).toBeNull();
    expect(await ledger.exists('beads', 'gt-none')).toBe(false);
    // With more loose refs than the quick check handles.
    await ledger.transact((tx) => {
      for (let i = 0; i < 40; i++) tx.put('beads', `gt-p${i}`, { i: 'loose' });
    });
    expect(await ledger.countRefs('beads/')).toBe(51);
  });
});

describe('entity kinds are declared by their owner (the ledger knows none by name)', () => {
  test('a declared chain, a replaced-history document and an undeclared kind', async () => {
    const dir = tempDir('ledger-kinds');
    cleanups.push(dir.cleanup);
    initRepo(dir.path);
    const ledger = await Ledger.open({
      repoDir: dir.path,
      kinds: [
        { name: 'notes', file: 'note.json', shape: 'chain', history: 'kept' },
        { name: 'pulse', file: 'pulse.json', shape: 'document', history: 'replaced' },
      ],
    });
    cleanups.push(() => ledger.close());

    await ledger.append('notes', 'ada', { n: 1 });
    await ledger.append('notes', 'ada', { n: 2 });
    await ledger.transact((tx) => tx.put('pulse', 'p1', { at: 1 }));
    await ledger.transact((tx) => tx.put('pulse', 'p1', { at: 2 }));
    await ledger.transact((tx) => tx.put('things', 't1', { v: 1 }));
    await ledger.transact((tx) => tx.put('things', 't1', { v: 2 }));

    expect((await ledger.readChain<{ n: number }>('notes', 'ada')).map((e) => e.value.n)).toEqual([1, 2]);
    expect(git(dir.path, ['show', 'refs/gastown/notes/ada:note.json'])).toBe('{"n":2}');
    // A replaced history keeps only the latest version; a kept one grows.
    expect(git(dir.path, ['rev-list', '--count', 'refs/gastown/pulse/p1'])).toBe('1');
    expect(git(dir.path, ['show', 'refs/gastown/pulse/p1:pulse.json'])).toBe('{"at":2}');
    expect(git(dir.path, ['rev-list', '--count', 'refs/gastown/things/t1'])).toBe('2');
    expect(git(dir.path, ['show', 'refs/gastown/things/t1:data.json'])).toBe('{"v":2}');
  });
});
