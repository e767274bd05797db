import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.js';
import { syncLedger } from '../../src/ledger/sync-ledger.js';
import { TOWN_KINDS } from '../../src/rig/town-kinds.js';
import { git, tempDir } from '../helpers/temp-repo.js';
import { traced } from '../helpers/git-trace.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function open(root: string, name: string) {
  const dir = join(root, name);
  git(root, ['init', '-q', '-b', 'main', dir]);
  const ledger = await Ledger.open({ kinds: TOWN_KINDS, repoDir: dir });
  cleanups.push(() => ledger.close());
  return { dir, ledger };
}

const bead = (id: string, title: string) => ({ id, title, body: '', priority: 2, labels: [], status: 'open' });

/** The git commands (argv) a call starts, from git's own trace. */

describe('the remote a sync names', () => {
  test("a named remote's directory is recorded: an idle sync asks git nothing, until the remote's URL changes", async () => {
    const root = tempDir('sync-remote-dir');
    cleanups.push(root.cleanup);
    const first = join(root.path, 'first.git');
    const second = join(root.path, 'second.git');
    git(root.path, ['init', '-q', '--bare', '-b', 'main', first]);
    git(root.path, ['init', '-q', '--bare', '-b', 'main', second]);
    const a = await open(root.path, 'a');
    const b = await open(root.path, 'b');
    const c = await open(root.path, 'c');
    await a.ledger.transact((tx) => tx.put('beads', 'gt-1', bead('gt-1', 'on the first remote')));
    await syncLedger(a.ledger, first);
    await b.ledger.transact((tx) => tx.put('beads', 'gt-2', bead('gt-2', 'on the second remote')));
    await syncLedger(b.ledger, second);

    git(c.dir, ['remote', 'add', 'origin', first]);
    expect(await syncLedger(c.ledger, 'origin')).toMatchObject({ created: 1 });
    // Nothing changed: not even `git remote get-url` (the remote's directory is recorded).
    const idle = await traced(root.path, () => syncLedger(c.ledger, 'origin'));
    expect(idle.result).toMatchObject({ created: 0, fastForwarded: 0, pushed: 0 });
    expect(idle.argvs).toEqual([]);

    // The same name now points elsewhere: git is asked again, and the sync is with the new remote.
    git(c.dir, ['remote', 'set-url', 'origin', second]);
    const moved = await traced(root.path, () => syncLedger(c.ledger, 'origin'));
    expect(moved.argvs.some((v) => v.includes('get-url'))).toBe(true);
    expect(moved.result).toMatchObject({ created: 1, pushed: 1 });
    expect((await c.ledger.get<{ title: string }>('beads', 'gt-2'))?.value.title).toBe('on the second remote');
    expect(git(second, ['rev-parse', 'refs/gastown/beads/gt-1'])).toBe(git(first, ['rev-parse', 'refs/gastown/beads/gt-1']));
    // And idle again without asking.
    const again = await traced(root.path, () => syncLedger(c.ledger, 'origin'));
    expect(again.result).toMatchObject({ created: 0, fastForwarded: 0, pushed: 0 });
    expect(again.argvs).toEqual([]);

    // A config that includes another file (which could define the remote): git is asked every time.
    git(c.dir, ['config', 'include.path', join(root.path, 'more.gitconfig')]);
    await syncLedger(c.ledger, 'origin');
    const included = await traced(root.path, () => syncLedger(c.ledger, 'origin'));
    expect(included.result).toMatchObject({ created: 0, fastForwarded: 0, pushed: 0 });
    expect(included.argvs.map((v) => v.slice(1, 3))).toEqual([['remote', 'get-url']]);
  });
});
