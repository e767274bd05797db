import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { countPackedUnder, hasPackedRef, hasPackedUnder, isSortedPacked, lowerBound } from '../../src/ledger/sorted-packed-refs.js';
import { git, TEST_GIT_ENV, tempDir } from '../helpers/temp-repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A packed-refs file written by git itself: 300 beads, some convoys, branches and annotated (peeled) tags between them. */
function packedByGit(): { packed: Buffer; refs: string[] } {
  const root = tempDir('sorted-packed');
  cleanups.push(root.cleanup);
  const dir = root.path;
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['commit', '-q', '--allow-empty', '-m', 'one']);
  const refs = [
    ...Array.from({ length: 300 }, (_, i) => `refs/gastown/beads/gt-${i.toString(36).padStart(3, '0')}`),
    ...Array.from({ length: 5 }, (_, i) => `refs/gastown/convoys/cv-${i}`),
    'refs/gastown/beadsx',
    'refs/heads/polecat/nux/gt-1',
  ];
  const head = git(dir, ['rev-parse', 'HEAD']);
  execFileSync('git', ['update-ref', '--stdin'], { cwd: dir, env: TEST_GIT_ENV, input: refs.map((r) => `create ${r} ${head}\n`).join('') });
  // Annotated tags (peeled lines in packed-refs), one of them among the ledger's refs.
  for (const t of ['v1', 'v2']) git(dir, ['tag', '-a', '-m', t, t]);
  const tag = git(dir, ['rev-parse', 'v1']);
  git(dir, ['update-ref', 'refs/gastown/beads-tag', tag]);
  git(dir, ['pack-refs', '--all']);
  const packed = readFileSync(join(dir, '.git', 'packed-refs'));
  const all = git(dir, ['for-each-ref', '--format=%(refname)']).split('\n');
  return { packed, refs: all };
}

test('binary search over a packed-refs git wrote sorted answers as a scan of every line does', () => {
  const { packed, refs } = packedByGit();
  expect(isSortedPacked(packed)).toBe(true);
  expect(packed.toString('latin1')).toMatch(/\n\^[0-9a-f]{40}\n/); // the tags' peeled lines are there
  for (const ref of refs) expect(hasPackedRef(packed, ref, 40)).toBe(true);
  for (const missing of ['refs/gastown/beads/gt-zzz', 'refs/gastown/beads', 'refs/a', 'refs/zzz', 'refs/heads/polecat/nux'])
    expect(hasPackedRef(packed, missing, 40)).toBe(false);
  const under = (p: string) => refs.filter((r) => r.startsWith(p)).length;
  for (const prefix of [
    'refs/gastown/beads/',
    'refs/gastown/convoys/',
    'refs/gastown/',
    'refs/heads/',
    'refs/tags/',
    'refs/nothing/',
    'refs/gastown/beadsx/',
  ])
    expect(countPackedUnder(packed, prefix, 40), prefix).toBe(under(prefix));
  expect(hasPackedUnder(packed, 'refs/heads/polecat/', 40)).toBe(true);
  expect(hasPackedUnder(packed, 'refs/heads/polecat/nux/gt-1/', 40)).toBe(false);
  expect(hasPackedUnder(packed, 'refs/gastown/beadsx/', 40)).toBe(false);
  // Past the last line, and before the first.
  expect(lowerBound(packed, 'refs/zzz', 40)).toBe(packed.length);
  expect(packed.toString('latin1', lowerBound(packed, 'refs/', 40))).toMatch(/^[0-9a-f]{40} refs\/gastown\/beads-tag\n/);
});

test('a packed-refs without the sorted trait is not taken as sorted', () => {
  expect(isSortedPacked(Buffer.from('# pack-refs with: peeled fully-peeled \nabc refs/x\n'))).toBe(false);
  expect(isSortedPacked(Buffer.from('abc refs/x\n'))).toBe(false);
  expect(isSortedPacked(Buffer.from('# pack-refs with: peeled fully-peeled sorted \n'))).toBe(true);
});
