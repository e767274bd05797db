import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.js';
import { localRemoteDir } from '../../src/ledger/local-remote-dir.js';
import { syncLedger } from '../../src/ledger/sync-ledger.js';
import { tidyLocalRemote } from '../../src/ledger/tidy-local-remote.js';
import { TOWN_KINDS } from '../../src/rig/town-kinds.js';
import { git, tempDir } from '../helpers/temp-repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function setup() {
  const root = tempDir('tidy-remote');
  cleanups.push(root.cleanup);
  const remote = join(root.path, 'remote.git');
  git(root.path, ['init', '-q', '--bare', '-b', 'main', remote]);
  const dir = join(root.path, 'clone');
  git(root.path, ['init', '-q', '-b', 'main', dir]);
  const ledger = await Ledger.open({ kinds: TOWN_KINDS, repoDir: dir });
  cleanups.push(() => ledger.close());
  return { root: root.path, remote, dir, ledger };
}

/** Ref files under `refs/gastown/` in a repository (loose refs, not packed ones). */
function looseLedgerRefs(gitDir: string): string[] {
  const base = join(gitDir, 'refs', 'gastown');
  if (!existsSync(base)) return [];
  return readdirSync(base, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);
}

const packedLedgerRefs = (gitDir: string) =>
  existsSync(join(gitDir, 'packed-refs'))
    ? readFileSync(join(gitDir, 'packed-refs'), 'utf8')
        .split('\n')
        .filter((l) => l.includes(' refs/gastown/'))
    : [];

const bead = (id: string) => ({ id, title: id, body: '', priority: 2, labels: [], status: 'open' });

describe('tidyLocalRemote', () => {
  test("a sync that pushes a thousand refs leaves a local remote's refs packed, so a fetch of one bead does not read them all", async () => {
    const { remote, ledger } = await setup();
    await ledger.transact((tx) => {
      for (let i = 0; i < 1000; i++) tx.put('beads', `gt-${i.toString(36).padStart(3, '0')}`, bead(`gt-${i}`));
    });
    const result = await syncLedger(ledger, remote);
    expect(result.pushed).toBe(1000);
    // receive-pack wrote each as a loose file; packed afterwards, and the values are the ones pushed.
    expect(looseLedgerRefs(remote)).toEqual([]);
    expect(packedLedgerRefs(remote)).toHaveLength(1000);
    expect(git(remote, ['rev-parse', 'refs/gastown/beads/gt-000'])).toBe(
      (await ledger.tips(['refs/gastown/beads/gt-000'])).get('refs/gastown/beads/gt-000'),
    );
  });

  test('a few refs at a time: once a directory pushed into holds a hundred loose refs, a push packs them, through a named remote', async () => {
    const { root, remote, dir, ledger } = await setup();
    git(dir, ['remote', 'add', 'origin', remote]);
    await ledger.transact((tx) => tx.put('beads', 'gt-a1', bead('gt-a1')));
    await syncLedger(ledger, 'origin');
    expect(looseLedgerRefs(remote)).toEqual(['gt-a1']);
    // Pushes from other clones count too: 98 more beads reach the remote through plain git.
    const other = join(root, 'other');
    git(root, ['clone', '-q', remote, other]);
    const tree = git(other, ['hash-object', '-t', 'tree', '-w', '/dev/null']);
    const commit = git(other, ['-c', 'user.name=o', '-c', 'user.email=o@x', 'commit-tree', tree, '-m', 'x']);
    const refs = Array.from({ length: 98 }, (_, i) => `${commit}:refs/gastown/beads/gt-o${i}`);
    git(other, ['push', '-q', remote, ...refs]);
    expect(looseLedgerRefs(remote)).toHaveLength(99);
    // 99 loose in refs/gastown/beads/: not yet.
    await ledger.transact((tx) => tx.put('beads', 'gt-a1', { ...bead('gt-a1'), title: 'again' }));
    await syncLedger(ledger, 'origin');
    expect(looseLedgerRefs(remote)).toHaveLength(99);
    // The hundredth: that push packs them all, values unchanged.
    await ledger.transact((tx) => tx.put('beads', 'gt-a2', bead('gt-a2')));
    const tip = (await ledger.tips(['refs/gastown/beads/gt-a2'])).get('refs/gastown/beads/gt-a2');
    await syncLedger(ledger, 'origin');
    expect(looseLedgerRefs(remote)).toEqual([]);
    expect(packedLedgerRefs(remote)).toHaveLength(100);
    expect(git(remote, ['rev-parse', 'refs/gastown/beads/gt-a2'])).toBe(tip);
    // Nothing counted in this clone: no file written on every push.
    expect(existsSync(join(dir, '.git', 'gastown', 'remote-pushes'))).toBe(false);
  });

  test('a remote on the network is never touched, however much was pushed', async () => {
    expect(await tidyLocalRemote(null, ['refs/gastown/beads/gt-1'], 5000)).toBe(false);
  });
});

describe('localRemoteDir', () => {
  test('paths, file:// URLs and named remotes resolve to a directory; network URLs do not', async () => {
    const { root, dir, remote } = await setup();
    git(dir, ['remote', 'add', 'origin', remote]);
    git(dir, ['remote', 'add', 'hub', 'https://x-access-token:secret@github.com/o/r.git']);
    expect(await localRemoteDir(dir, remote)).toBe(remote);
    expect(await localRemoteDir(dir, '../remote.git')).toBe(join(root, 'remote.git'));
    expect(await localRemoteDir(dir, `file://${remote}`)).toBe(remote);
    expect(await localRemoteDir(dir, 'origin')).toBe(remote);
    expect(await localRemoteDir(dir, 'hub')).toBeNull();
    expect(await localRemoteDir(dir, 'ssh://host/r.git')).toBeNull();
    expect(await localRemoteDir(dir, 'host:r.git')).toBeNull();
  });
});
