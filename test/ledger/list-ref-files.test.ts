import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { listRefFiles } from '../../src/ledger/list-ref-files.js';
import { git, tempDir } from '../helpers/temp-repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function repo() {
  const root = tempDir('list-refs');
  cleanups.push(root.cleanup);
  git(root.path, ['init', '-q', '-b', 'main', 'r']);
  const dir = join(root.path, 'r');
  git(dir, ['commit', '-q', '--allow-empty', '-m', 'one']);
  const c1 = git(dir, ['rev-parse', 'HEAD']);
  git(dir, ['commit', '-q', '--allow-empty', '-m', 'two']);
  const c2 = git(dir, ['rev-parse', 'HEAD']);
  return { dir, gitDir: join(dir, '.git'), c1, c2 };
}

function forEachRef(dir: string, prefix: string): Map<string, string> {
  const out = git(dir, ['for-each-ref', '--format=%(objectname) %(refname)', prefix]);
  return new Map(
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(l.indexOf(' ') + 1), l.slice(0, l.indexOf(' '))] as [string, string]),
  );
}

test('lists packed and loose refs under a prefix as git does, a loose ref winning over its packed line, sorted', () => {
  const { dir, gitDir, c1, c2 } = repo();
  for (const r of ['refs/gastown/beads/b', 'refs/gastown/beads/d', 'refs/gastown/hooks/x', 'refs/gastown-remote/gastown/beads/b'])
    git(dir, ['update-ref', r, c1]);
  git(dir, ['pack-refs', '--all']);
  git(dir, ['update-ref', 'refs/gastown/beads/d', c2]); // loose, newer than its packed line
  git(dir, ['update-ref', 'refs/gastown/beads/a', c2]); // loose only, sorts first
  git(dir, ['update-ref', 'refs/gastown/beads/c', c1]);
  writeFileSync(join(gitDir, 'refs/gastown/beads/e.lock'), 'x'); // a writer's lock: not a ref
  for (const prefix of ['refs/gastown/', 'refs/gastown/beads/', 'refs/gastown-remote/', 'refs/nothing/']) {
    const listed = listRefFiles(gitDir, prefix, c1.length);
    expect(listed && [...listed]).toEqual([...forEachRef(dir, prefix)]);
  }
  expect(listRefFiles(gitDir, 'refs/gastown/', c1.length)!.get('refs/gastown/beads/d')).toBe(c2);
  expect([...listRefFiles(gitDir, 'refs/gastown/beads/', c1.length)!.keys()]).toEqual([
    'refs/gastown/beads/a',
    'refs/gastown/beads/b',
    'refs/gastown/beads/c',
    'refs/gastown/beads/d',
  ]);
});

test('sees a pack-refs and later writes (the parsed packed-refs is not reused once the file changed)', () => {
  const { dir, gitDir, c1, c2 } = repo();
  git(dir, ['update-ref', 'refs/gastown/beads/a', c1]);
  git(dir, ['pack-refs', '--all']);
  expect(listRefFiles(gitDir, 'refs/gastown/', c1.length)?.get('refs/gastown/beads/a')).toBe(c1);
  git(dir, ['update-ref', 'refs/gastown/beads/b', c2]);
  git(dir, ['pack-refs', '--all']);
  git(dir, ['update-ref', '-d', 'refs/gastown/beads/a']);
  expect(listRefFiles(gitDir, 'refs/gastown/', c1.length)).toEqual(new Map([['refs/gastown/beads/b', c2]]));
});

test('leaves to git what it does not read: a symbolic ref, a damaged ref file, a prefix not ending in /', () => {
  const { dir, gitDir, c1 } = repo();
  git(dir, ['update-ref', 'refs/gastown/beads/a', c1]);
  expect(listRefFiles(gitDir, 'refs/gastown/beads', c1.length)).toBeUndefined();
  git(dir, ['symbolic-ref', 'refs/gastown/beads/link', 'refs/gastown/beads/a']);
  expect(listRefFiles(gitDir, 'refs/gastown/', c1.length)).toBeUndefined();
  git(dir, ['symbolic-ref', '--delete', 'refs/gastown/beads/link']);
  expect(listRefFiles(gitDir, 'refs/gastown/', c1.length)?.size).toBe(1);
  mkdirSync(join(gitDir, 'refs/gastown/hooks'), { recursive: true });
  writeFileSync(join(gitDir, 'refs/gastown/hooks/cut'), c1.slice(0, 20));
  expect(listRefFiles(gitDir, 'refs/gastown/', c1.length)).toBeUndefined();
});
