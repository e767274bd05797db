import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { localRefState, sameLocalState } from '../../src/ledger/local-ref-state.js';
import { git, initRepo, tempDir } from '../helpers/temp-repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function repo() {
  const root = tempDir('local-ref-state');
  cleanups.push(root.cleanup);
  const dir = initRepo(root.path);
  const head = git(dir, ['rev-parse', 'HEAD']);
  return { dir, gitDir: join(dir, '.git'), head };
}

describe('localRefState', () => {
  test('packed and loose refs under the prefix; a move of either changes the state, one outside does not', () => {
    const { dir, gitDir, head } = repo();
    for (const id of ['a', 'b', 'c']) git(dir, ['update-ref', `refs/gastown/beads/${id}`, head]);
    git(dir, ['pack-refs', '--all']);
    git(dir, ['update-ref', 'refs/gastown/feed/w', head]);
    const first = localRefState(gitDir, 'refs/gastown/', 40, true)!;
    expect(Object.keys(first.state.loose)).toEqual(['refs/gastown/feed/w']);
    expect(first.state.packed).toMatch(/^\d+:[0-9a-f]+$/);
    expect([...first.refs!.keys()].sort()).toEqual([
      'refs/gastown/beads/a',
      'refs/gastown/beads/b',
      'refs/gastown/beads/c',
      'refs/gastown/feed/w',
    ]);
    git(dir, ['update-ref', 'refs/heads/other', head]);
    expect(sameLocalState(first.state, localRefState(gitDir, 'refs/gastown/', 40)!.state)).toBe(true);
    git(dir, ['commit', '-q', '--allow-empty', '-m', 'two']);
    git(dir, ['update-ref', 'refs/gastown/beads/b', 'HEAD']);
    expect(sameLocalState(first.state, localRefState(gitDir, 'refs/gastown/', 40)!.state)).toBe(false);
  });

  test('a state taken before lends its packed-refs digest while packed-refs is the same file; a rewritten one is read again', () => {
    const { dir, gitDir, head } = repo();
    for (const id of ['a', 'b']) git(dir, ['update-ref', `refs/gastown/beads/${id}`, head]);
    git(dir, ['pack-refs', '--all']);
    const taken = localRefState(gitDir, 'refs/gastown/', 40)!.state;
    expect(taken.packedFile).toBeTruthy();
    // A digest no read of this file would give: reused means packed-refs was not read again.
    const lent = { ...taken, packed: 'lent' };
    expect(localRefState(gitDir, 'refs/gastown/', 40, false, lent)!.state.packed).toBe('lent');
    // Asked for every value, it reads the file whatever it was lent.
    expect(localRefState(gitDir, 'refs/gastown/', 40, true, lent)!.state.packed).toBe(taken.packed);
    // pack-refs writes a new file and renames it over the old one: read again, a new digest.
    git(dir, ['commit', '-q', '--allow-empty', '-m', 'two']);
    git(dir, ['update-ref', 'refs/gastown/beads/a', 'HEAD']);
    git(dir, ['pack-refs', '--all']);
    const after = localRefState(gitDir, 'refs/gastown/', 40, false, lent)!.state;
    expect(after.packed).not.toBe('lent');
    expect(after.packed).not.toBe(taken.packed);
    expect(after.packedFile).not.toBe(taken.packedFile);
  });

  test('a symbolic ref under the prefix cannot be told from the files: undefined, for git to answer', () => {
    const { dir, gitDir, head } = repo();
    git(dir, ['update-ref', 'refs/gastown/beads/a', head]);
    writeFileSync(join(gitDir, 'refs', 'gastown', 'beads', 'sym'), 'ref: refs/gastown/beads/a\n');
    expect(localRefState(gitDir, 'refs/gastown/', 40)).toBeUndefined();
  });
});
