import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.js';
import { syncLedger } from '../../src/ledger/sync-ledger.js';
import { git, tempDir } from '../helpers/temp-repo.js';
import { TOWN_KINDS } from '../../src/rig/town-kinds.js';
import { traced } from '../helpers/git-trace.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A bare remote and three clones of it, each with its own ledger (and so its own writer id). */
async function clones() {
  const root = tempDir('sync-summary');
  cleanups.push(root.cleanup);
  const remote = join(root.path, 'remote.git');
  git(root.path, ['init', '-q', '--bare', '-b', 'main', remote]);
  const open = async (name: string) => {
    const dir = join(root.path, name);
    git(root.path, ['init', '-q', '-b', 'main', dir]);
    const ledger = await Ledger.open({ kinds: TOWN_KINDS, repoDir: dir });
    cleanups.push(() => ledger.close());
    return { dir, ledger };
  };
  return { root: root.path, remote, a: await open('a'), b: await open('b'), c: await open('c') };
}

const bead = (id: string, title: string) => ({ id, title, body: '', priority: 2, labels: [], status: 'open' });
const put = (ledger: Ledger, id: string, title: string) => ledger.transact((tx) => tx.put('beads', id, bead(id, title)));
const titleOf = async (ledger: Ledger, id: string) => (await ledger.get<{ title: string }>('beads', id))?.value.title;

/** The git commands (argv) a call starts, from git's own trace. */

describe('sync summaries', () => {
  test('a sync that leaves hundreds of loose refs packs them and keeps its record: the next idle sync runs no git process', async () => {
    const { root, remote, a } = await clones();
    const loose = () =>
      readdirSync(join(a.dir, '.git', 'refs'), { recursive: true, withFileTypes: true }).filter(
        (e) => e.isFile() && /gastown/.test(join(e.parentPath, e.name)),
      ).length;
    // 600 in one transaction: fewer than the 1,000 after which a transaction packs on its own.
    await a.ledger.transact((tx) => {
      for (let i = 0; i < 600; i++) tx.put('beads', `gt-p${i}`, bead(`gt-p${i}`, `bead ${i}`));
    });
    expect(loose()).toBe(600);
    expect(await syncLedger(a.ledger, remote)).toMatchObject({ pushed: 600 });
    // The 600 refs and their 600 tracking refs are packed, their values unchanged.
    expect(loose()).toBe(0);
    expect(git(a.dir, ['rev-parse', 'refs/gastown/beads/gt-p7'])).toBe(git(remote, ['rev-parse', 'refs/gastown/beads/gt-p7']));
    expect(await titleOf(a.ledger, 'gt-p599')).toBe('bead 599');
    // The record was taken again for the new layout: nothing changed is the summaries read
    // from the remote's ref files (a remote on this machine), no git process at all.
    const idle = await traced(root, () => syncLedger(a.ledger, remote));
    expect(idle.result).toMatchObject({ created: 0, fastForwarded: 0, merged: 0, pushed: 0 });
    expect(idle.argvs).toEqual([]);
    // A write after the pack still goes out.
    await put(a.ledger, 'gt-p1', 'renamed');
    expect(await syncLedger(a.ledger, remote)).toMatchObject({ pushed: 1 });
  });

  test("every push moves its writer's summary in the same atomic push, naming the refs pushed", async () => {
    const { remote, a } = await clones();
    await put(a.ledger, 'gt-s1', 'one');
    await put(a.ledger, 'gt-s2', 'two');
    await syncLedger(a.ledger, remote);
    const ref = `refs/gastown-sync/${a.ledger.writerId}`;
    const first = git(remote, ['rev-parse', ref]);
    expect(JSON.parse(git(remote, ['log', '-1', '--format=%b', ref]))).toEqual({
      refs: ['refs/gastown/beads/gt-s1', 'refs/gastown/beads/gt-s2'],
    });
    // The next push: a child of the last summary (a fast-forward), naming only what it pushed.
    await put(a.ledger, 'gt-s2', 'two, renamed');
    await syncLedger(a.ledger, remote);
    expect(git(remote, ['rev-parse', `${ref}^`])).toBe(first);
    expect(JSON.parse(git(remote, ['log', '-1', '--format=%b', ref]))).toEqual({ refs: ['refs/gastown/beads/gt-s2'] });
    // Beside the ledger's namespace: a listing of the ledger never sees it.
    expect([...(await a.ledger.refs(''))].map(([r]) => r)).toEqual(['refs/gastown/beads/gt-s1', 'refs/gastown/beads/gt-s2']);
  });

  test('a clone takes what two other writers pushed, on a remote on this machine straight from its files: no process at all', async () => {
    const { root, remote, a, b, c } = await clones();
    for (let i = 0; i < 30; i++) await put(a.ledger, `gt-m${i}`, `bead ${i}`);
    await syncLedger(a.ledger, remote);
    await syncLedger(b.ledger, remote);
    await syncLedger(c.ledger, remote);
    await put(a.ledger, 'gt-m3', 'from a');
    await syncLedger(a.ledger, remote);
    await put(b.ledger, 'gt-m4', 'from b');
    await syncLedger(b.ledger, remote);

    const { result, argvs } = await traced(root, () => syncLedger(c.ledger, remote));

    expect(result).toMatchObject({ created: 0, fastForwarded: 2, merged: 0, pushed: 0 });
    expect(await titleOf(c.ledger, 'gt-m3')).toBe('from a');
    expect(await titleOf(c.ledger, 'gt-m4')).toBe('from b');
    // The summaries, their commits, the two refs and their objects were read from the
    // remote's files; the objects copied are the very ones (git itself reads them here).
    expect(argvs).toEqual([]);
    expect(git(c.dir, ['rev-parse', 'refs/gastown/beads/gt-m3'])).toBe(git(remote, ['rev-parse', 'refs/gastown/beads/gt-m3']));
    expect(git(c.dir, ['fsck', '--no-dangling', '--connectivity-only'])).toBe('');
    expect(git(c.dir, ['cat-file', '-p', 'refs/gastown/beads/gt-m4:bead.json'])).toContain('from b');
    // And then nothing to do: no git process at all.
    const idle = await traced(root, () => syncLedger(c.ledger, remote));
    expect(idle.result).toMatchObject({ created: 0, fastForwarded: 0, merged: 0, pushed: 0 });
    expect(idle.argvs).toEqual([]);
    // Both sides edited one bead: the merge is made from what was copied, and pushed.
    await put(a.ledger, 'gt-m5', 'a edits');
    await syncLedger(a.ledger, remote);
    await c.ledger.transact((tx) => tx.put('beads', 'gt-m5', { ...bead('gt-m5', 'bead 5'), body: 'c edits' }));
    expect(await syncLedger(c.ledger, remote)).toMatchObject({ merged: 1, pushed: 1 });
    expect(await c.ledger.get('beads', 'gt-m5')).toMatchObject({ value: { title: 'a edits', body: 'c edits' } });
    await syncLedger(a.ledger, remote);
    expect(await a.ledger.get('beads', 'gt-m5')).toMatchObject({ value: { title: 'a edits', body: 'c edits' } });
  });

  test("what the remote's files cannot give cheaply (a long history) comes in one fetch naming just those refs and the summaries", async () => {
    const { root, remote, a, b, c } = await clones();
    for (let i = 0; i < 30; i++) await put(a.ledger, `gt-m${i}`, `bead ${i}`);
    await syncLedger(a.ledger, remote);
    await syncLedger(b.ledger, remote);
    await syncLedger(c.ledger, remote);
    // 70 versions of one bead in one push: more commits than are copied from the files.
    for (let i = 0; i < 70; i++) await put(a.ledger, 'gt-m3', `from a, version ${i}`);
    await syncLedger(a.ledger, remote);
    await put(b.ledger, 'gt-m4', 'from b');
    await syncLedger(b.ledger, remote);

    const { result, argvs } = await traced(root, () => syncLedger(c.ledger, remote));

    expect(result).toMatchObject({ created: 0, fastForwarded: 2, merged: 0, pushed: 0 });
    expect(await titleOf(c.ledger, 'gt-m3')).toBe('from a, version 69');
    expect(await titleOf(c.ledger, 'gt-m4')).toBe('from b');
    expect(argvs.filter((v) => v.includes('ls-remote') || v.includes('push'))).toEqual([]);
    const fetches = argvs.filter((v) => v.includes('fetch'));
    expect(fetches).toHaveLength(1);
    expect(fetches[0]!.filter((x) => x.startsWith('+refs/gastown/')).sort()).toEqual([
      '+refs/gastown/beads/gt-m3:refs/got/gastown/beads/gt-m3',
      '+refs/gastown/beads/gt-m4:refs/got/gastown/beads/gt-m4',
    ]);
    // The moved summaries, read from the remote's files, come in the same fetch.
    expect(fetches[0]!.filter((x) => x.startsWith('+refs/gastown-sync/')).sort()).toEqual(
      [a.ledger.writerId, b.ledger.writerId].sort().map((w) => `+refs/gastown-sync/${w}:refs/got/gastown-sync/${w}`),
    );
    const idle = await traced(root, () => syncLedger(c.ledger, remote));
    expect(idle.argvs).toEqual([]);
    // That fetch runs in a side repository kept for it; while another sync holds it, in a
    // throwaway one; a lock left by a killed sync is given up after a minute.
    const lock = join(c.dir, '.git', 'gastown', 'side', 'kept-refs.lock');
    const longPush = async (title: string) => {
      for (let i = 0; i < 70; i++) await put(a.ledger, 'gt-m5', `${title} ${i}`);
      await syncLedger(a.ledger, remote);
    };
    writeFileSync(lock, '');
    await longPush('while locked');
    expect(await syncLedger(c.ledger, remote)).toMatchObject({ fastForwarded: 1 });
    expect(existsSync(lock)).toBe(true);
    utimesSync(lock, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    await longPush('after the stale lock');
    await syncLedger(c.ledger, remote);
    expect(existsSync(lock)).toBe(false);
    await longPush('kept again');
    expect(await syncLedger(c.ledger, remote)).toMatchObject({ fastForwarded: 1 });
    expect(await titleOf(c.ledger, 'gt-m5')).toBe('kept again 69');
  });

  test('a local change made after the last sync is pushed, even one made with plain git', async () => {
    const { root, remote, a, b } = await clones();
    await put(a.ledger, 'gt-l1', 'one');
    await put(a.ledger, 'gt-l2', 'two');
    await syncLedger(a.ledger, remote);
    await syncLedger(b.ledger, remote);
    await syncLedger(b.ledger, remote);

    await put(b.ledger, 'gt-l1', 'changed in b');
    expect(await syncLedger(b.ledger, remote)).toMatchObject({ pushed: 1 });
    // Nothing moved since: the quick check, no listing of the remote.
    const quiet = await traced(root, () => syncLedger(b.ledger, remote));
    expect(quiet.argvs.filter((v) => v.includes('ls-remote') || v.includes('push'))).toEqual([]);
    // A ref moved by git itself, not through the ledger: the ref files changed, so sync compares.
    await put(b.ledger, 'gt-l2', 'scratch');
    const moved = git(b.dir, ['rev-parse', 'refs/gastown/beads/gt-l2']);
    git(b.dir, ['update-ref', 'refs/gastown/beads/gt-l2', 'refs/gastown/beads/gt-l2^']);
    expect(await syncLedger(b.ledger, remote)).toMatchObject({ pushed: 0 });
    git(b.dir, ['update-ref', 'refs/gastown/beads/gt-l2', moved]);
    expect(await syncLedger(b.ledger, remote)).toMatchObject({ pushed: 1 });

    await syncLedger(a.ledger, remote);
    expect(await titleOf(a.ledger, 'gt-l1')).toBe('changed in b');
    expect(await titleOf(a.ledger, 'gt-l2')).toBe('scratch');
  });

  test('a push that moves no summary (plain git) is seen by the full comparison: asked for, or due after five minutes', async () => {
    const { remote, a, b } = await clones();
    await put(a.ledger, 'gt-p1', 'one');
    await syncLedger(a.ledger, remote);
    await syncLedger(b.ledger, remote);
    await syncLedger(b.ledger, remote);
    await put(a.ledger, 'gt-p1', 'pushed by plain git');
    git(a.dir, ['push', '-q', remote, 'refs/gastown/beads/gt-p1:refs/gastown/beads/gt-p1']);

    // The summaries say nothing moved: the quick check trusts them...
    expect(await syncLedger(b.ledger, remote)).toMatchObject({ fastForwarded: 0 });
    expect(await titleOf(b.ledger, 'gt-p1')).toBe('one');
    // ...until the full comparison is due,
    const stateFile = join(b.dir, '.git', 'gastown', 'sync-state.json');
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    writeFileSync(stateFile, JSON.stringify({ ...state, fullAt: Date.now() - 6 * 60_000 }));
    expect(await syncLedger(b.ledger, remote)).toMatchObject({ fastForwarded: 1 });
    expect(await titleOf(b.ledger, 'gt-p1')).toBe('pushed by plain git');
    // or asked for (`gt sync --full`).
    git(a.dir, ['update-ref', 'refs/gastown/beads/gt-p1', 'refs/gastown/beads/gt-p1^']);
    git(a.dir, ['push', '-q', '--force', remote, 'refs/gastown/beads/gt-p1:refs/gastown/beads/gt-p1']);
    expect(await syncLedger(b.ledger, remote)).toMatchObject({ fastForwarded: 0, pushed: 0 });
    expect(await syncLedger(b.ledger, remote, { full: true })).toMatchObject({ pushed: 1 });
  });
});

describe("a local remote's packed summaries", () => {
  test('are read again whenever its packed-refs is another file: a pack-refs between two syncs hides no push', async () => {
    const { root, remote, a, c } = await clones();
    await put(a.ledger, 'gt-k1', 'one');
    await syncLedger(a.ledger, remote);
    git(remote, ['pack-refs', '--all']); // a's summary is now a packed line
    await syncLedger(c.ledger, remote);
    await syncLedger(c.ledger, remote); // records the packed summaries with the file's identity
    const state = () => JSON.parse(readFileSync(join(c.dir, '.git', 'gastown', 'sync-state.json'), 'utf8'));
    expect(Object.values(state().remotePacked.refs)).toEqual([git(remote, ['rev-parse', `refs/gastown-sync/${a.ledger.writerId}`])]);
    // A push moves the summary as a loose file beside the packed line; then the remote is
    // packed again, so the new value is only in a new packed-refs.
    await put(a.ledger, 'gt-k1', 'two');
    await syncLedger(a.ledger, remote);
    git(remote, ['pack-refs', '--all']);
    const took = await traced(root, () => syncLedger(c.ledger, remote));
    expect(took.result).toMatchObject({ fastForwarded: 1 });
    expect(took.argvs).toEqual([]);
    expect(await titleOf(c.ledger, 'gt-k1')).toBe('two');
    // And one more, left loose: seen beside the packed lines recorded.
    await put(a.ledger, 'gt-k1', 'three');
    await syncLedger(a.ledger, remote);
    expect(await syncLedger(c.ledger, remote)).toMatchObject({ fastForwarded: 1 });
    expect(await titleOf(c.ledger, 'gt-k1')).toBe('three');
    const idle = await traced(root, () => syncLedger(c.ledger, remote));
    expect(idle.result).toMatchObject({ fastForwarded: 0, pushed: 0 });
    expect(idle.argvs).toEqual([]);
  });
});
