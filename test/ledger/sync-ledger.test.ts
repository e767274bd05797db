import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.js';
import { mergeValues } from '../../src/ledger/merge-values.js';
import { syncLedger } from '../../src/ledger/sync-ledger.js';
import { git, tempDir } from '../helpers/temp-repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A bare remote and two clones, each with its own ledger; clock per clone so edits can be ordered. */
async function twoClones() {
  const root = tempDir('sync');
  cleanups.push(root.cleanup);
  const remote = join(root.path, 'remote.git');
  git(root.path, ['init', '-q', '--bare', '-b', 'main', remote]);
  const open = async (name: string) => {
    const dir = join(root.path, name);
    git(root.path, ['init', '-q', '-b', 'main', dir]);
    let t = Date.parse('2026-01-01T00:00:00Z');
    const clock = { advance: (s: number) => (t += s * 1000) };
    const ledger = await Ledger.open({ repoDir: dir, now: () => new Date(t) });
    cleanups.push(() => ledger.close());
    return { dir, ledger, clock };
  };
  return { remote, a: await open('a'), b: await open('b') };
}

describe('syncLedger', () => {
  test('two clones edit the same bead offline; sync on both converges to one identical, deterministic result', async () => {
    const { remote, a, b } = await twoClones();
    const base = { id: 'gt-s1s1', title: 'Write docs', body: 'old', priority: 2, labels: ['docs'], status: 'open' };
    await a.ledger.transact((tx) => tx.put('beads', 'gt-s1s1', base));
    await syncLedger(a.ledger, remote);
    await syncLedger(b.ledger, remote);
    expect((await b.ledger.get('beads', 'gt-s1s1'))?.value).toEqual(base);

    // Offline: A retitles and adds a label; B changes the body, adds another label, and
    // changes the priority, which A also changed (B's edit is later, so it wins that field).
    a.clock.advance(10);
    b.clock.advance(20);
    await a.ledger.transact((tx) => tx.put('beads', 'gt-s1s1', { ...base, title: 'Write the docs', labels: ['docs', 'a-label'], priority: 1 }));
    await b.ledger.transact((tx) => tx.put('beads', 'gt-s1s1', { ...base, body: 'new', labels: ['docs', 'b-label'], priority: 3 }));
    await a.ledger.append('mail', 'mayor', { id: 'from-a' });
    await b.ledger.append('mail', 'mayor', { id: 'from-b' });

    const ra = await syncLedger(a.ledger, remote);
    const rb = await syncLedger(b.ledger, remote);
    const ra2 = await syncLedger(a.ledger, remote);

    expect(ra.pushed).toBeGreaterThan(0);
    expect(rb.merged).toBe(2); // the bead and the inbox
    expect(ra2.fastForwarded).toBe(2);
    const va = await a.ledger.get('beads', 'gt-s1s1');
    const vb = await b.ledger.get('beads', 'gt-s1s1');
    expect(va!.oid).toBe(vb!.oid);
    expect(va!.value).toEqual({ ...base, title: 'Write the docs', body: 'new', priority: 3, labels: ['a-label', 'b-label', 'docs'] });
    const mailA = (await a.ledger.readChain<{ id: string }>('mail', 'mayor')).map((m) => m.value.id).sort();
    expect(mailA).toEqual(['from-a', 'from-b']);
    expect(git(a.dir, ['rev-parse', 'refs/gastown/mail/mayor'])).toBe(git(b.dir, ['rev-parse', 'refs/gastown/mail/mayor']));
    // Nothing left to do on either side.
    expect(await syncLedger(b.ledger, remote)).toMatchObject({ created: 0, fastForwarded: 0, merged: 0, pushed: 0 });
  });

  test('merging the same divergence on either clone makes the same commit', async () => {
    const { remote, a, b } = await twoClones();
    await a.ledger.transact((tx) => tx.put('convoys', 'cv-0001', { id: 'cv-0001', beads: ['gt-1'], title: 't', status: 'active' }));
    await syncLedger(a.ledger, remote);
    await syncLedger(b.ledger, remote);
    a.clock.advance(5);
    b.clock.advance(5); // same second: a true conflict is decided by commit id, the same way on both sides
    await a.ledger.transact((tx) => tx.put('convoys', 'cv-0001', { id: 'cv-0001', beads: ['gt-1', 'gt-2'], title: 't', status: 'landed' }));
    await b.ledger.transact((tx) => tx.put('convoys', 'cv-0001', { id: 'cv-0001', beads: ['gt-1', 'gt-3'], title: 'T', status: 'stopped' }));
    const aTip = git(a.dir, ['rev-parse', 'refs/gastown/convoys/cv-0001']);
    const bTip = git(b.dir, ['rev-parse', 'refs/gastown/convoys/cv-0001']);
    // Frozen copies of each side's pre-merge state, so the two merges are independent.
    const aCopy = `${a.dir}-copy.git`;
    const bCopy = `${b.dir}-copy.git`;
    git(a.dir, ['clone', '-q', '--bare', '--mirror', a.dir, aCopy]);
    git(b.dir, ['clone', '-q', '--bare', '--mirror', b.dir, bCopy]);

    const onA = await syncLedger(a.ledger, bCopy); // A merges B's version
    const onB = await syncLedger(b.ledger, aCopy); // B merges A's version

    expect(onA.merged).toBe(1);
    expect(onB.merged).toBe(1);
    const mergedA = git(a.dir, ['rev-parse', 'refs/gastown/convoys/cv-0001']);
    expect(git(b.dir, ['rev-parse', 'refs/gastown/convoys/cv-0001'])).toBe(mergedA);
    expect(git(a.dir, ['log', '-1', '--format=%P', mergedA]).split(' ')).toEqual([aTip, bTip].sort());
    expect((await a.ledger.get('convoys', 'cv-0001'))!.value).toEqual({
      id: 'cv-0001',
      beads: ['gt-1', 'gt-2', 'gt-3'],
      title: 'T', // only B changed it
      status: aTip > bTip ? 'landed' : 'stopped', // both changed it: the larger commit id wins
    });
  });

  test('push is never forced: a rejected push fetches, merges and retries', async () => {
    const { remote, a, b } = await twoClones();
    await a.ledger.transact((tx) => tx.put('beads', 'gt-r1r1', { n: ['a0'] }));
    await syncLedger(a.ledger, remote);
    await syncLedger(b.ledger, remote);
    await a.ledger.transact((tx) => tx.put('beads', 'gt-r1r1', { n: ['a0', 'a1'] }));
    await b.ledger.transact((tx) => tx.put('beads', 'gt-r1r1', { n: ['a0', 'b1'] }));
    // B pushes behind A's back with plain git (no ledger involved) so A's first push is rejected.
    git(b.dir, ['push', '-q', remote, 'refs/gastown/beads/gt-r1r1:refs/gastown/beads/gt-r1r1']);
    await syncLedger(a.ledger, remote);
    await syncLedger(b.ledger, remote);
    expect((await a.ledger.get<{ n: string[] }>('beads', 'gt-r1r1'))!.value.n).toEqual(['a0', 'a1', 'b1']);
    expect((await b.ledger.get<{ n: string[] }>('beads', 'gt-r1r1'))!.value.n).toEqual(['a0', 'a1', 'b1']);
  });

  test('an unreachable remote is a clear sync error', async () => {
    const { a } = await twoClones();
    await expect(syncLedger(a.ledger, '/nonexistent/remote.git')).rejects.toMatchObject({ code: 'gastown_sync' });
  });
});

describe('mergeValues', () => {
  test('is symmetric: swapping sides and the winner gives the same JSON', () => {
    const base = { a: 1, tags: ['x', 'y'], nested: { p: 1, q: 1 }, gone: true };
    const ours = { a: 2, tags: ['x', 'z'], nested: { p: 2, q: 1 } };
    const theirs = { a: 3, tags: ['y', 'w'], nested: { p: 1, q: 3 }, gone: true, added: 'yes' };
    const one = mergeValues(base, ours, theirs, true);
    const two = mergeValues(base, theirs, ours, false);
    expect(JSON.stringify(one)).toBe(JSON.stringify(two));
    expect(one).toEqual({ a: 2, tags: ['w', 'z'], nested: { p: 2, q: 3 }, added: 'yes' });
  });
});
