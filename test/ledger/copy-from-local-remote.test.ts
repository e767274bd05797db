import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import { afterEach, describe, expect, test } from 'vitest';
import { copyFromLocalRemote } from '../../src/ledger/copy-from-local-remote.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { syncLedger } from '../../src/ledger/sync-ledger.js';
import { TOWN_KINDS } from '../../src/rig/town-kinds.js';
import { git, tempDir } from '../helpers/temp-repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const bead = (id: string, title: string) => ({ id, title, body: '', priority: 2, labels: [], status: 'open' });

async function setup() {
  const root = tempDir('copy-remote');
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
  return { remote, a: await open('a'), b: await open('b') };
}

const ref = (id: string) => `refs/gastown/beads/${id}`;
const objectFile = (repo: string, oid: string) => join(repo, 'objects', oid.slice(0, 2), oid.slice(2));

describe('copyFromLocalRemote', () => {
  test("takes a ref's value (loose or packed) and the objects missing here from the remote's files", async () => {
    const { remote, a, b } = await setup();
    await a.ledger.transact((tx) => {
      tx.put('beads', 'gt-1', bead('gt-1', 'one'));
      tx.put('beads', 'gt-2', bead('gt-2', 'two'));
    });
    await syncLedger(a.ledger, remote);
    git(remote, ['pack-refs', '--all']); // gt-1 and gt-2 packed on the remote
    await a.ledger.transact((tx) => tx.put('beads', 'gt-2', bead('gt-2', 'two, renamed')));
    await syncLedger(a.ledger, remote); // gt-2 loose again, newer than its packed line
    // A ref the remote's files do not show: git decides (null); so for a path that is no bare repository.
    expect(
      await copyFromLocalRemote(b.ledger, remote, [
        { ref: ref('gt-1'), have: null },
        { ref: ref('gt-none'), have: null },
      ]),
    ).toBeNull();
    expect(await copyFromLocalRemote(b.ledger, a.dir, [{ ref: ref('gt-1'), have: null }])).toBeNull();
    const got = await copyFromLocalRemote(b.ledger, remote, [
      { ref: ref('gt-1'), have: null },
      { ref: ref('gt-2'), have: null },
    ]);
    expect(got && Object.fromEntries(got)).toEqual({
      [ref('gt-1')]: git(remote, ['rev-parse', ref('gt-1')]),
      [ref('gt-2')]: git(remote, ['rev-parse', ref('gt-2')]),
    });
    // Every object either value reaches is here now, history included.
    for (const oid of got!.values()) expect(git(b.dir, ['rev-list', '--objects', oid]).split('\n').length).toBeGreaterThan(2);
    expect(git(b.dir, ['cat-file', '-p', `${got!.get(ref('gt-2'))}:bead.json`])).toContain('two, renamed');
    expect(git(b.dir, ['cat-file', '-p', `${got!.get(ref('gt-2'))}~1:bead.json`])).toContain('"two"');
  });

  test('an object whose content does not hash to its name is never taken: null, and the sync (through git) refuses it too', async () => {
    const { remote, a, b } = await setup();
    await a.ledger.transact((tx) => tx.put('beads', 'gt-1', bead('gt-1', 'one')));
    await syncLedger(a.ledger, remote);
    await syncLedger(b.ledger, remote);
    await syncLedger(b.ledger, remote);
    const before = git(b.dir, ['rev-parse', ref('gt-1')]);
    await a.ledger.transact((tx) => tx.put('beads', 'gt-1', bead('gt-1', 'the real title')));
    await syncLedger(a.ledger, remote);
    // The remote's copy of the new bead's blob is replaced with other content under the same name.
    const blob = git(remote, ['rev-parse', `${ref('gt-1')}:bead.json`]);
    const file = objectFile(remote, blob);
    const forged = inflateSync(readFileSync(file)).toString('utf8').replace('the real title', 'a forged title');
    chmodSync(file, 0o644);
    writeFileSync(file, deflateSync(Buffer.from(forged)));
    expect(await copyFromLocalRemote(b.ledger, remote, [{ ref: ref('gt-1'), have: before }])).toBeNull();
    await expect(syncLedger(b.ledger, remote)).rejects.toThrow(/cannot fetch the ledger/);
    expect(git(b.dir, ['rev-parse', ref('gt-1')])).toBe(before);
    // Nothing under that name here but what git can read back as the real content, if anything.
    rmSync(file); // (the remote is broken; what matters is this clone)
    expect(git(b.dir, ['cat-file', '-p', `${before}:bead.json`])).toContain('"one"');
  });
});
