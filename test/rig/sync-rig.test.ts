import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { createBead } from '../../src/rig/beads.js';
import { Rig } from '../../src/rig/rig.js';
import { sling } from '../../src/rig/sling.js';
import { syncRig } from '../../src/rig/sync-rig.js';
import { syncLedger } from '../../src/ledger/sync-ledger.js';
import type { Bead, Hook } from '../../src/town/types.js';
import { gt } from '../cli/run-gt.js';
import { git, repoWithRemote, tempDir } from '../helpers/temp-repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** Two clones of one remote, each a rig with its own clock (so edits can be ordered). */
async function twoRigs() {
  const root = tempDir('sync-rig');
  cleanups.push(root.cleanup);
  const { remote, clone } = repoWithRemote(root.path);
  const second = join(root.path, 'rig-b');
  git(root.path, ['clone', '-q', remote, second]);
  const open = async (dir: string, actor: string) => {
    let t = Date.parse('2026-02-01T00:00:00Z');
    const now = () => new Date(t);
    Rig.init(dir, { remote });
    const rig = await Rig.open({ repoDir: dir, actor, now });
    cleanups.push(() => rig.close());
    const run = (args: string[]) => gt(dir, args, { actor, now });
    return { dir, rig, run, advance: (s: number) => (t += s * 1000) };
  };
  return { remote, a: await open(clone, 'ada'), b: await open(second, 'bob') };
}

async function hooksNaming(rig: Rig, beadId: string): Promise<string[]> {
  return (await rig.ledger.list<Hook>('hooks'))
    .filter((h) => h.value.bead === beadId)
    .map((h) => h.id)
    .sort();
}

test('one bead slung offline to two polecats in two clones ends on exactly one hook after gt sync', async () => {
  const { a, b } = await twoRigs();
  const bead = await createBead(a.rig, { title: 'Fix the login page' });
  expect((await a.run(['sync'])).code).toBe(0);
  expect((await b.run(['sync'])).code).toBe(0);

  // Offline: each clone slings the same open bead to a different polecat; B's sling is later.
  a.advance(10);
  b.advance(20);
  await sling(a.rig, bead.id, 'nux');
  await sling(b.rig, bead.id, 'slit');
  for (const side of [a, b, a, b]) {
    const r = await side.run(['sync']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
  }

  for (const side of [a, b]) {
    expect((await side.rig.ledger.get<Bead>('beads', bead.id))!.value).toMatchObject({ status: 'hooked', assignee: 'slit' });
    expect(await hooksNaming(side.rig, bead.id)).toEqual(['slit']);
    const hook = (await side.run(['hook', '--json'])).json<{ agent: string; bead: Bead | null }[]>();
    expect(hook.map((h) => [h.agent, h.bead?.id ?? null])).toEqual([
      ['nux', null],
      ['slit', bead.id],
    ]);
  }
  // The merge gave the bead to the later sling and says what it dropped, in the bead's trail.
  const trail = (await b.run(['trail', '--bead', bead.id, '--json'])).json<{ summary: string }[]>();
  expect(trail.map((t) => t.summary)).toContainEqual(
    expect.stringMatching(new RegExp(`^merge beads/${bead.id}: kept assignee.* from bob \\(later edit\\); dropped assignee "nux"`)),
  );
  // Both clones cleared the same hook the same way: nothing is left to sync, and nux is free.
  expect((await a.run(['sync', '--json'])).json()).toMatchObject({ created: 0, fastForwarded: 0, merged: 0, pushed: 0 });
  const next = await createBead(a.rig, { title: 'Another task' });
  expect((await sling(a.rig, next.id, 'nux')).polecat).toBe('nux');
});

test('a leftover hook (its bead assigned elsewhere) does not keep its polecat busy', async () => {
  const { a } = await twoRigs();
  const one = await createBead(a.rig, { title: 'One' });
  const two = await createBead(a.rig, { title: 'Two' });
  await sling(a.rig, one.id, 'slit');
  // A hook left over from before reconciliation existed: nux names a bead that is slit's.
  await a.rig.ledger.transact((tx) => tx.put<Hook>('hooks', 'nux', { agent: 'nux', bead: one.id, slungAt: a.rig.at(), slungBy: 'x' }));

  expect((await sling(a.rig, two.id, 'nux')).polecat).toBe('nux');
});

test('gt sync warns about a ledger ref it cannot decode and leaves it out, syncing the rest', async () => {
  const { remote, a } = await twoRigs();
  const good = await createBead(a.rig, { title: 'Good' });
  // A ref written by some other tool: no JSON in the message, no bead.json in the tree.
  const tree = git(a.dir, ['write-tree']);
  const junk = git(a.dir, ['commit-tree', tree, '-m', 'not a bead']);
  git(a.dir, ['update-ref', 'refs/gastown/beads/gt-junk', junk]);

  const r = await a.run(['sync']);

  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/^warning: not synced refs\/gastown\/beads\/gt-junk: beads value at \w+ cannot be decoded$/m);
  expect(git(remote, ['for-each-ref', '--format=%(refname)', 'refs/gastown/beads/'])).toBe(`refs/gastown/beads/${good.id}`);
});

test("a scoped sync clears the hook a bead it took left behind (found from the bead's assignee before), and no other", async () => {
  const { remote, a, b } = await twoRigs();
  const bead = await createBead(a.rig, { title: 'Contested' });
  const other = await createBead(a.rig, { title: 'Elsewhere' });
  await sling(a.rig, bead.id, 'slit');
  await sling(a.rig, other.id, 'rust');
  await syncRig(a.rig, remote);
  await syncRig(b.rig, remote);
  await syncRig(b.rig, remote); // b recorded: its next sync looks only at what the summaries name
  expect(await hooksNaming(b.rig, bead.id)).toEqual(['slit']);

  // A writer without the repair (plain syncLedger: an older gastown) moves the bead to nux
  // and hooks it there, but leaves slit's hook naming it.
  a.advance(10);
  await a.rig.ledger.transact((tx) => {
    tx.put<Bead>('beads', bead.id, { ...bead, status: 'hooked', assignee: 'nux' });
    tx.put<Hook>('hooks', 'nux', { agent: 'nux', bead: bead.id, slungAt: a.rig.at(), slungBy: 'ada' });
  });
  expect(await syncLedger(a.rig.ledger, remote)).toMatchObject({ pushed: 2 });

  const result = await syncRig(b.rig, remote);
  // The bead moved, nux's hook is new; slit's hook and a feed entry saying so are the repair.
  expect(result).toMatchObject({ created: 1, fastForwarded: 1, reconciled: 2 });
  expect(await hooksNaming(b.rig, bead.id)).toEqual(['nux']);
  expect((await b.rig.ledger.get<Hook>('hooks', 'rust'))?.value.bead).toBe(other.id);
  // The repair went out with the sync: a takes it.
  await syncRig(a.rig, remote);
  expect(await hooksNaming(a.rig, bead.id)).toEqual(['nux']);
});
