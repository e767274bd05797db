import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { Journal } from '../../src/ledger/journal.js';
import { OwnerFile } from '../../src/ledger/lock-owner.js';
import { RefFiles } from '../../src/ledger/ref-files.js';
import { git, initRepo, tempDir, TEST_GIT_ENV } from '../helpers/temp-repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function fresh(opts: { sha256?: boolean } = {}) {
  const dir = tempDir('ref-files');
  cleanups.push(dir.cleanup);
  if (opts.sha256) {
    git(dir.path, ['init', '-q', '--object-format=sha256', '-b', 'main']);
    git(dir.path, ['commit', '-q', '--allow-empty', '-m', 'root']);
  } else initRepo(dir.path);
  const gitDir = join(dir.path, '.git');
  const oidLength = opts.sha256 ? 64 : 40;
  const owner = new OwnerFile(join(gitDir, 'gastown', 'owners'), 'test');
  return { dir: dir.path, gitDir, refs: new RefFiles(gitDir, oidLength, owner, new Journal(join(gitDir, 'gastown'))) };
}

/** A new commit (distinct per message) made by git itself. */
function commit(dir: string, message: string): string {
  const tree = git(dir, ['rev-parse', 'HEAD^{tree}']);
  return git(dir, ['commit-tree', tree, '-m', message]);
}

/** What git says a ref points at; null when git does not know it. */
function revParse(dir: string, ref: string): string | null {
  try {
    return git(dir, ['rev-parse', '--verify', '-q', ref]);
  } catch {
    return null;
  }
}

/** Every `*.lock` file under `.git/refs` (and `.git/packed-refs.lock`). */
function locks(gitDir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.lock')) found.push(p);
    }
  };
  walk(join(gitDir, 'refs'));
  if (existsSync(join(gitDir, 'packed-refs.lock'))) found.push(join(gitDir, 'packed-refs.lock'));
  return found.sort();
}

/** `git for-each-ref` under a prefix, as "<oid> <ref>" lines. */
function forEachRef(dir: string, prefix = 'refs/'): string[] {
  const out = git(dir, ['for-each-ref', '--format=%(objectname) %(refname)', prefix]);
  return out === '' ? [] : out.split('\n');
}

describe('RefFiles: create and update', () => {
  test('creates refs (oldOid null) and updates them (oldOid = current); git agrees; no lock left', () => {
    const { dir, gitDir, refs } = fresh();
    const c1 = commit(dir, 'one');
    const c2 = commit(dir, 'two');
    const c3 = commit(dir, 'three');

    expect(refs.read('refs/gastown/beads/gt-0001')).toBeNull();
    expect(refs.transaction([{ ref: 'refs/gastown/beads/gt-0001', newOid: c1, oldOid: null }])).toEqual({ ok: true });
    expect(revParse(dir, 'refs/gastown/beads/gt-0001')).toBe(c1);
    expect(refs.read('refs/gastown/beads/gt-0001')).toBe(c1);
    // The loose file is exactly what git writes: the oid and a newline.
    expect(readFileSync(join(gitDir, 'refs/gastown/beads/gt-0001'), 'utf8')).toBe(`${c1}\n`);

    expect(refs.transaction([{ ref: 'refs/gastown/beads/gt-0001', newOid: c2, oldOid: c1 }])).toEqual({ ok: true });
    expect(revParse(dir, 'refs/gastown/beads/gt-0001')).toBe(c2);
    expect(refs.read('refs/gastown/beads/gt-0001')).toBe(c2);

    // Several refs at once, a create and an update, in unsorted order.
    const result = refs.transaction([
      { ref: 'refs/gastown/hooks/nux', newOid: c3, oldOid: null },
      { ref: 'refs/gastown/beads/gt-0001', newOid: c3, oldOid: c2 },
    ]);
    expect(result).toEqual({ ok: true });
    expect(forEachRef(dir, 'refs/gastown/')).toEqual([`${c3} refs/gastown/beads/gt-0001`, `${c3} refs/gastown/hooks/nux`]);
    expect(locks(gitDir)).toEqual([]);
    // git can keep working on the refs we wrote.
    git(dir, ['update-ref', 'refs/gastown/hooks/nux', c1, c3]);
    expect(refs.read('refs/gastown/hooks/nux')).toBe(c1);
  });

  test('read agrees with git for a ref git wrote, and an empty transaction changes nothing', () => {
    const { dir, gitDir, refs } = fresh();
    const c1 = commit(dir, 'one');
    git(dir, ['update-ref', 'refs/gastown/x', c1]);
    expect(refs.read('refs/gastown/x')).toBe(revParse(dir, 'refs/gastown/x'));
    expect(refs.read('refs/heads/main')).toBe(revParse(dir, 'refs/heads/main'));
    expect(refs.transaction([])).toEqual({ ok: true });
    expect(forEachRef(dir)).toEqual([`${c1} refs/gastown/x`, `${revParse(dir, 'HEAD')} refs/heads/main`]);
    expect(locks(gitDir)).toEqual([]);
  });
});

describe('RefFiles: compare-and-swap conflicts', () => {
  test('a stale oldOid is a conflict and leaves the ref unchanged', () => {
    const { dir, gitDir, refs } = fresh();
    const c1 = commit(dir, 'one');
    const c2 = commit(dir, 'two');
    const c3 = commit(dir, 'three');
    git(dir, ['update-ref', 'refs/gastown/beads/gt-1', c1]);
    git(dir, ['update-ref', 'refs/gastown/beads/gt-1', c2, c1]);

    const result = refs.transaction([{ ref: 'refs/gastown/beads/gt-1', newOid: c3, oldOid: c1 }]);
    expect(result).toMatchObject({ ok: false, reason: 'conflict', ref: 'refs/gastown/beads/gt-1', lockPath: null });
    expect(revParse(dir, 'refs/gastown/beads/gt-1')).toBe(c2);
    expect(locks(gitDir)).toEqual([]);
  });

  test('creating a ref that exists is a conflict', () => {
    const { dir, gitDir, refs } = fresh();
    const c1 = commit(dir, 'one');
    const c2 = commit(dir, 'two');
    git(dir, ['update-ref', 'refs/gastown/beads/gt-2', c1]);

    const result = refs.transaction([{ ref: 'refs/gastown/beads/gt-2', newOid: c2, oldOid: null }]);
    expect(result).toMatchObject({ ok: false, reason: 'conflict', ref: 'refs/gastown/beads/gt-2', lockPath: null });
    expect(revParse(dir, 'refs/gastown/beads/gt-2')).toBe(c1);
    expect(locks(gitDir)).toEqual([]);
  });

  test('updating a missing ref (oldOid set) is a conflict and does not create it', () => {
    const { dir, gitDir, refs } = fresh();
    const c1 = commit(dir, 'one');
    const c2 = commit(dir, 'two');

    const result = refs.transaction([{ ref: 'refs/gastown/beads/gt-3', newOid: c2, oldOid: c1 }]);
    expect(result).toMatchObject({ ok: false, reason: 'conflict', ref: 'refs/gastown/beads/gt-3', lockPath: null });
    expect(revParse(dir, 'refs/gastown/beads/gt-3')).toBeNull();
    expect(refs.read('refs/gastown/beads/gt-3')).toBeNull();
    expect(forEachRef(dir, 'refs/gastown/')).toEqual([]);
    expect(locks(gitDir)).toEqual([]);
  });
});

describe('RefFiles: packed refs', () => {
  test('reads a packed ref, updates it (the loose file then wins), and refuses a stale CAS against it', () => {
    const { dir, gitDir, refs } = fresh();
    const c1 = commit(dir, 'one');
    const c2 = commit(dir, 'two');
    const c3 = commit(dir, 'three');
    git(dir, ['update-ref', 'refs/gastown/beads/gt-p', c1]);
    git(dir, ['update-ref', 'refs/gastown/beads/gt-q', c1]);
    git(dir, ['pack-refs', '--all']);
    // Precondition: the refs live only in packed-refs now.
    expect(existsSync(join(gitDir, 'refs/gastown/beads/gt-p'))).toBe(false);
    expect(readFileSync(join(gitDir, 'packed-refs'), 'utf8')).toContain(`${c1} refs/gastown/beads/gt-p\n`);

    expect(refs.read('refs/gastown/beads/gt-p')).toBe(c1);
    expect(refs.read('refs/gastown/beads/gt-p')).toBe(revParse(dir, 'refs/gastown/beads/gt-p'));
    expect(refs.read('refs/gastown/beads/gt-none')).toBeNull();
    expect(revParse(dir, 'refs/gastown/beads/gt-none')).toBeNull();

    // A stale CAS against a packed ref.
    expect(refs.transaction([{ ref: 'refs/gastown/beads/gt-p', newOid: c3, oldOid: c2 }])).toMatchObject({
      ok: false,
      reason: 'conflict',
      ref: 'refs/gastown/beads/gt-p',
    });
    // Creating a packed ref is a conflict too.
    expect(refs.transaction([{ ref: 'refs/gastown/beads/gt-q', newOid: c3, oldOid: null }])).toMatchObject({
      ok: false,
      reason: 'conflict',
      ref: 'refs/gastown/beads/gt-q',
    });
    expect(revParse(dir, 'refs/gastown/beads/gt-p')).toBe(c1);
    expect(revParse(dir, 'refs/gastown/beads/gt-q')).toBe(c1);

    // An update against the packed value succeeds: git sees the loose value.
    expect(refs.transaction([{ ref: 'refs/gastown/beads/gt-p', newOid: c2, oldOid: c1 }])).toEqual({ ok: true });
    expect(revParse(dir, 'refs/gastown/beads/gt-p')).toBe(c2);
    expect(refs.read('refs/gastown/beads/gt-p')).toBe(c2);
    // packed-refs still holds the old value; the loose file shadows it.
    expect(readFileSync(join(gitDir, 'packed-refs'), 'utf8')).toContain(`${c1} refs/gastown/beads/gt-p\n`);
    expect(forEachRef(dir, 'refs/gastown/')).toEqual([`${c2} refs/gastown/beads/gt-p`, `${c1} refs/gastown/beads/gt-q`]);
    expect(locks(gitDir)).toEqual([]);

    // After git packs again, the same instance reads the re-packed value (packed-refs was rewritten).
    git(dir, ['update-ref', 'refs/gastown/beads/gt-q', c3, c1]);
    git(dir, ['pack-refs', '--all']);
    expect(existsSync(join(gitDir, 'refs/gastown/beads/gt-q'))).toBe(false);
    expect(refs.read('refs/gastown/beads/gt-q')).toBe(c3);
    expect(refs.read('refs/gastown/beads/gt-p')).toBe(c2);
    expect(refs.transaction([{ ref: 'refs/gastown/beads/gt-q', newOid: c1, oldOid: c1 }])).toMatchObject({ ok: false, reason: 'conflict' });
    expect(refs.transaction([{ ref: 'refs/gastown/beads/gt-q', newOid: c1, oldOid: c3 }])).toEqual({ ok: true });
    expect(revParse(dir, 'refs/gastown/beads/gt-q')).toBe(c1);
  });

  test('a ref absent from both the loose store and packed-refs reads as null, also beside similar names', () => {
    const { dir, refs } = fresh();
    const c1 = commit(dir, 'one');
    // No packed-refs file at all yet.
    expect(existsSync(join(dir, '.git/packed-refs'))).toBe(false);
    expect(refs.read('refs/gastown/x')).toBeNull();

    git(dir, ['update-ref', 'refs/gastown/xx', c1]);
    git(dir, ['update-ref', 'refs/gastown/x-y', c1]);
    git(dir, ['update-ref', 'refs/gastown/x/y', c1]);
    git(dir, ['update-ref', 'refs/other/refs/gastown/x', c1]);
    git(dir, ['pack-refs', '--all']);
    for (const ref of ['refs/gastown/x', 'refs/gastown/x/y/z', 'gastown/x']) {
      expect(revParse(dir, ref), ref).toBeNull();
      expect(refs.read(ref), ref).toBeNull();
    }
    for (const ref of ['refs/gastown/xx', 'refs/gastown/x-y', 'refs/gastown/x/y', 'refs/other/refs/gastown/x'])
      expect(refs.read(ref), ref).toBe(revParse(dir, ref));
  });

  test('reads packed refs next to annotated tags (peeled lines) as git does', () => {
    const { dir, refs } = fresh();
    const c1 = commit(dir, 'one');
    const c2 = commit(dir, 'two');
    git(dir, ['tag', '-a', '-m', 'tagged', 'v1', c1]);
    const tagObj = git(dir, ['rev-parse', 'refs/tags/v1']);
    git(dir, ['update-ref', 'refs/gastown/a-tag', tagObj]);
    git(dir, ['update-ref', 'refs/gastown/b', c2]);
    git(dir, ['pack-refs', '--all']);
    const packed = readFileSync(join(dir, '.git/packed-refs'), 'utf8');
    // Precondition: the line after the tag's is its peeled value.
    expect(packed).toContain(`${tagObj} refs/gastown/a-tag\n^${c1}\n${c2} refs/gastown/b\n`);

    expect(refs.read('refs/gastown/a-tag')).toBe(tagObj);
    expect(refs.read('refs/gastown/b')).toBe(c2);
    expect(refs.read('refs/tags/v1')).toBe(revParse(dir, 'refs/tags/v1'));
    expect(refs.transaction([{ ref: 'refs/gastown/b', newOid: c1, oldOid: c2 }])).toEqual({ ok: true });
    expect(revParse(dir, 'refs/gastown/b')).toBe(c1);
  });
});

describe('RefFiles: multi-ref transactions', () => {
  test('three refs where one conflicts: none changes and no lock remains', () => {
    const { dir, gitDir, refs } = fresh();
    const c1 = commit(dir, 'one');
    const c2 = commit(dir, 'two');
    const c3 = commit(dir, 'three');
    git(dir, ['update-ref', 'refs/gastown/m/a', c1]);
    git(dir, ['update-ref', 'refs/gastown/m/c', c1]);
    git(dir, ['update-ref', 'refs/gastown/m/c', c2, c1]);
    const before = forEachRef(dir);

    // The conflicting ref sorts last, so the other two have been locked and written first.
    const result = refs.transaction([
      { ref: 'refs/gastown/m/c', newOid: c3, oldOid: c1 },
      { ref: 'refs/gastown/m/a', newOid: c3, oldOid: c1 },
      { ref: 'refs/gastown/m/b', newOid: c3, oldOid: null },
    ]);
    expect(result).toMatchObject({ ok: false, reason: 'conflict', ref: 'refs/gastown/m/c' });
    expect(forEachRef(dir)).toEqual(before);
    expect(revParse(dir, 'refs/gastown/m/b')).toBeNull();
    expect(locks(gitDir)).toEqual([]);

    // The conflict first in lock order: likewise nothing.
    const again = refs.transaction([
      { ref: 'refs/gastown/m/c', newOid: c3, oldOid: c2 },
      { ref: 'refs/gastown/m/b', newOid: c3, oldOid: null },
      { ref: 'refs/gastown/m/a', newOid: c3, oldOid: c2 },
    ]);
    expect(again).toMatchObject({ ok: false, reason: 'conflict', ref: 'refs/gastown/m/a' });
    expect(forEachRef(dir)).toEqual(before);
    expect(locks(gitDir)).toEqual([]);

    // With every expectation right, all three move.
    expect(
      refs.transaction([
        { ref: 'refs/gastown/m/c', newOid: c3, oldOid: c2 },
        { ref: 'refs/gastown/m/b', newOid: c3, oldOid: null },
        { ref: 'refs/gastown/m/a', newOid: c3, oldOid: c1 },
      ]),
    ).toEqual({ ok: true });
    expect(forEachRef(dir, 'refs/gastown/')).toEqual([`${c3} refs/gastown/m/a`, `${c3} refs/gastown/m/b`, `${c3} refs/gastown/m/c`]);
    expect(locks(gitDir)).toEqual([]);
  });
});

describe('RefFiles: locks held by other writers', () => {
  test('a .lock already present is reported as locked; the others are untouched and the foreign lock stays', () => {
    const { dir, gitDir, refs } = fresh();
    const c1 = commit(dir, 'one');
    const c2 = commit(dir, 'two');
    git(dir, ['update-ref', 'refs/gastown/l/a', c1]);
    git(dir, ['update-ref', 'refs/gastown/l/b', c1]);
    git(dir, ['update-ref', 'refs/gastown/l/c', c1]);
    const foreign = join(gitDir, 'refs/gastown/l/c.lock');
    writeFileSync(foreign, `${c2}\n`);
    const before = forEachRef(dir);

    const result = refs.transaction([
      { ref: 'refs/gastown/l/a', newOid: c2, oldOid: c1 },
      { ref: 'refs/gastown/l/b', newOid: c2, oldOid: c1 },
      { ref: 'refs/gastown/l/c', newOid: c2, oldOid: c1 },
    ]);
    expect(result).toMatchObject({ ok: false, reason: 'locked', ref: 'refs/gastown/l/c', lockPath: foreign });
    expect(forEachRef(dir)).toEqual(before);
    // Only the foreign lock remains, with its content intact.
    expect(locks(gitDir)).toEqual([foreign]);
    expect(readFileSync(foreign, 'utf8')).toBe(`${c2}\n`);
    // git sees the same lock.
    expect(() => git(dir, ['update-ref', 'refs/gastown/l/c', c2, c1])).toThrow(/File exists|Unable to create/);

    // A foreign lock in the middle of the lock order.
    const middle = join(gitDir, 'refs/gastown/l/b.lock');
    writeFileSync(middle, '');
    const second = refs.transaction([
      { ref: 'refs/gastown/l/a', newOid: c2, oldOid: c1 },
      { ref: 'refs/gastown/l/b', newOid: c2, oldOid: c1 },
    ]);
    expect(second).toMatchObject({ ok: false, reason: 'locked', ref: 'refs/gastown/l/b', lockPath: middle });
    expect(forEachRef(dir)).toEqual(before);
    expect(locks(gitDir)).toEqual([middle, foreign]);

    // Once the other writers are gone, the transaction goes through.
    for (const l of [middle, foreign]) rmSync(l);
    expect(
      refs.transaction([
        { ref: 'refs/gastown/l/a', newOid: c2, oldOid: c1 },
        { ref: 'refs/gastown/l/c', newOid: c2, oldOid: c1 },
      ]),
    ).toEqual({ ok: true });
    expect(forEachRef(dir, 'refs/gastown/')).toEqual([`${c2} refs/gastown/l/a`, `${c1} refs/gastown/l/b`, `${c2} refs/gastown/l/c`]);
  });

  test("interleaves with a live `git update-ref --stdin`: locked while git holds the ref, then CAS against git's value", async () => {
    const { dir, gitDir, refs } = fresh();
    const c1 = commit(dir, 'one');
    const c2 = commit(dir, 'two');
    const c3 = commit(dir, 'three');
    const ref = 'refs/gastown/live/gt-9';
    git(dir, ['update-ref', ref, c1]);

    const child = spawn('git', ['update-ref', '--stdin'], { cwd: dir, env: TEST_GIT_ENV });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    cleanups.push(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill();
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    const prepared = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString('utf8');
        if (out.split('\n').includes('prepare: ok')) resolve();
      });
      child.on('close', () => reject(new Error(`git update-ref ended before prepare: ${out} ${err}`)));
    });
    child.stdin.write(`start\nupdate ${ref} ${c2} ${c1}\nprepare\n`);
    await prepared;

    const gitLock = join(gitDir, `${ref}.lock`);
    expect(existsSync(gitLock)).toBe(true);
    const locked = refs.transaction([
      { ref: 'refs/gastown/live/gt-1', newOid: c3, oldOid: null },
      { ref, newOid: c3, oldOid: c1 },
    ]);
    expect(locked).toMatchObject({ ok: false, reason: 'locked', ref, lockPath: gitLock });
    // git's lock is still there, ours is gone, nothing moved.
    expect(existsSync(gitLock)).toBe(true);
    expect(locks(gitDir)).toEqual([gitLock]);
    expect(revParse(dir, 'refs/gastown/live/gt-1')).toBeNull();
    expect(refs.read(ref)).toBe(c1);

    child.stdin.write('commit\n');
    child.stdin.end();
    expect(await exited).toBe(0);
    expect(out).toContain('commit: ok');
    expect(revParse(dir, ref)).toBe(c2);
    expect(locks(gitDir)).toEqual([]);

    expect(refs.transaction([{ ref, newOid: c3, oldOid: c1 }])).toMatchObject({ ok: false, reason: 'conflict', ref });
    expect(revParse(dir, ref)).toBe(c2);
    expect(refs.transaction([{ ref, newOid: c3, oldOid: c2 }])).toEqual({ ok: true });
    expect(revParse(dir, ref)).toBe(c3);
    expect(locks(gitDir)).toEqual([]);
  });
});

describe('RefFiles: what it leaves to git', () => {
  test('deletes are not handled and change nothing', () => {
    const { dir, gitDir, refs } = fresh();
    const c1 = commit(dir, 'one');
    const c2 = commit(dir, 'two');
    git(dir, ['update-ref', 'refs/gastown/d/a', c1]);
    git(dir, ['update-ref', 'refs/gastown/d/b', c1]);
    const before = forEachRef(dir);

    expect(refs.transaction([{ ref: 'refs/gastown/d/a', newOid: null, oldOid: c1 }])).toBeUndefined();
    // A delete mixed with an update: the update is not applied either.
    expect(
      refs.transaction([
        { ref: 'refs/gastown/d/a', newOid: c2, oldOid: c1 },
        { ref: 'refs/gastown/d/b', newOid: null, oldOid: c1 },
      ]),
    ).toBeUndefined();
    expect(forEachRef(dir)).toEqual(before);
    expect(locks(gitDir)).toEqual([]);
  });

  test('refs under refs/heads/ (and remotes, notes) are left to git, which keeps their reflogs', () => {
    const { dir, gitDir, refs } = fresh();
    const c1 = commit(dir, 'one');
    const main = revParse(dir, 'refs/heads/main')!;
    const before = forEachRef(dir);

    expect(refs.transaction([{ ref: 'refs/heads/feature', newOid: c1, oldOid: null }])).toBeUndefined();
    expect(refs.transaction([{ ref: 'refs/heads/main', newOid: c1, oldOid: main }])).toBeUndefined();
    expect(refs.transaction([{ ref: 'refs/remotes/origin/x', newOid: c1, oldOid: null }])).toBeUndefined();
    expect(refs.transaction([{ ref: 'refs/notes/commits', newOid: c1, oldOid: null }])).toBeUndefined();
    // Mixed with a ref it would handle: nothing at all.
    expect(
      refs.transaction([
        { ref: 'refs/gastown/ok', newOid: c1, oldOid: null },
        { ref: 'refs/heads/feature', newOid: c1, oldOid: null },
      ]),
    ).toBeUndefined();
    expect(forEachRef(dir)).toEqual(before);
    expect(revParse(dir, 'refs/heads/main')).toBe(main);
    expect(existsSync(join(gitDir, 'logs/refs/heads/feature'))).toBe(false);
    expect(locks(gitDir)).toEqual([]);
    // Reading a branch is fine: no reflog is involved.
    expect(refs.read('refs/heads/main')).toBe(main);
  });

  test('a symbolic ref reads as undefined and a transaction on it is left to git', () => {
    const { dir, gitDir, refs } = fresh();
    const c1 = commit(dir, 'one');
    git(dir, ['symbolic-ref', 'refs/gastown/sym', 'refs/heads/main']);
    expect(readFileSync(join(gitDir, 'refs/gastown/sym'), 'utf8')).toBe('ref: refs/heads/main\n');
    const main = revParse(dir, 'refs/heads/main')!;
    expect(revParse(dir, 'refs/gastown/sym')).toBe(main);

    expect(refs.read('refs/gastown/sym')).toBeUndefined();
    expect(refs.read('HEAD')).toBeUndefined();
    expect(refs.transaction([{ ref: 'refs/gastown/sym', newOid: c1, oldOid: main }])).toBeUndefined();
    expect(git(dir, ['symbolic-ref', 'refs/gastown/sym'])).toBe('refs/heads/main');
    expect(revParse(dir, 'refs/heads/main')).toBe(main);
    expect(locks(gitDir)).toEqual([]);
  });

  test('a newOid that is not a full lowercase oid is left to git', () => {
    const { dir, gitDir, refs } = fresh();
    const c1 = commit(dir, 'one');
    for (const newOid of [c1.slice(0, 7), c1.toUpperCase(), `${c1}0`, 'HEAD'])
      expect(refs.transaction([{ ref: 'refs/gastown/bad', newOid, oldOid: null }]), newOid).toBeUndefined();
    expect(revParse(dir, 'refs/gastown/bad')).toBeNull();
    expect(locks(gitDir)).toEqual([]);
  });
});

describe('RefFiles: directory/file conflicts', () => {
  test('creating refs/x/y while a loose refs/x exists is left to git (which refuses it), not reported as locked', () => {
    const { dir, gitDir, refs } = fresh();
    const c1 = commit(dir, 'one');
    git(dir, ['update-ref', 'refs/gastown/df', c1]);
    // git refuses this update itself.
    expect(() => git(dir, ['update-ref', 'refs/gastown/df/child', c1])).toThrow(/'refs\/gastown\/df' exists; cannot create/);

    const result = refs.transaction([{ ref: 'refs/gastown/df/child', newOid: c1, oldOid: null }]);
    // The class's contract: "a file where a directory should be: git explains those".
    expect(result).toBeUndefined();
    expect(forEachRef(dir, 'refs/gastown/')).toEqual([`${c1} refs/gastown/df`]);
    expect(locks(gitDir)).toEqual([]);
  });

  test('creating refs/x while a loose refs/x/y exists is left to git', () => {
    const { dir, gitDir, refs } = fresh();
    const c1 = commit(dir, 'one');
    git(dir, ['update-ref', 'refs/gastown/fd/child', c1]);
    expect(() => git(dir, ['update-ref', 'refs/gastown/fd', c1])).toThrow(/exists; cannot create/);

    expect(refs.transaction([{ ref: 'refs/gastown/fd', newOid: c1, oldOid: null }])).toBeUndefined();
    expect(forEachRef(dir, 'refs/gastown/')).toEqual([`${c1} refs/gastown/fd/child`]);
    expect(locks(gitDir)).toEqual([]);
  });

  test('creating refs/x/y while refs/x is packed does not succeed (git refuses it)', () => {
    const { dir, gitDir, refs } = fresh();
    const c1 = commit(dir, 'one');
    git(dir, ['update-ref', 'refs/gastown/pdf', c1]);
    git(dir, ['pack-refs', '--all']);
    expect(existsSync(join(gitDir, 'refs/gastown/pdf'))).toBe(false);
    expect(() => git(dir, ['update-ref', 'refs/gastown/pdf/child', c1])).toThrow(/'refs\/gastown\/pdf' exists; cannot create/);

    const result = refs.transaction([{ ref: 'refs/gastown/pdf/child', newOid: c1, oldOid: null }]);
    // Were it to succeed, git would hold both refs, which it never allows: `git clone --mirror`
    // of the repository then dies with "cannot process 'refs/gastown/pdf' and
    // 'refs/gastown/pdf/child' at the same time".
    expect(result?.ok).not.toBe(true);
    expect(forEachRef(dir, 'refs/gastown/')).toEqual([`${c1} refs/gastown/pdf`]);
    expect(locks(gitDir)).toEqual([]);
  });

  test('creating refs/x while refs/x/y is packed does not succeed (git refuses it)', () => {
    const { dir, gitDir, refs } = fresh();
    const c1 = commit(dir, 'one');
    git(dir, ['update-ref', 'refs/gastown/pfd/child', c1]);
    git(dir, ['pack-refs', '--all']);
    expect(existsSync(join(gitDir, 'refs/gastown/pfd/child'))).toBe(false);
    expect(() => git(dir, ['update-ref', 'refs/gastown/pfd', c1])).toThrow(/exists; cannot create/);

    const result = refs.transaction([{ ref: 'refs/gastown/pfd', newOid: c1, oldOid: null }]);
    expect(result?.ok).not.toBe(true);
    expect(forEachRef(dir, 'refs/gastown/')).toEqual([`${c1} refs/gastown/pfd/child`]);
    expect(locks(gitDir)).toEqual([]);
  });
});

describe('RefFiles.supports', () => {
  test('true for the config git init writes; false for reftable or logAllRefUpdates = always', () => {
    const { dir, gitDir } = fresh();
    const plain = readFileSync(join(gitDir, 'config'), 'utf8');
    // git init's config has logallrefupdates = true (reflogs for branches only).
    expect(git(dir, ['config', '--get', 'core.logAllRefUpdates'])).toBe('true');
    expect(RefFiles.supports(plain)).toBe(true);
    expect(RefFiles.supports('')).toBe(true);

    expect(RefFiles.supports(`${plain}[extensions]\n\trefStorage = reftable\n`)).toBe(false);
    expect(RefFiles.supports('[extensions]\n\trefStorage = reftable')).toBe(false);
    expect(RefFiles.supports(`${plain}[extensions]\n\trefStorage = files\n`)).toBe(true);

    git(dir, ['config', 'core.logAllRefUpdates', 'always']);
    const always = readFileSync(join(gitDir, 'config'), 'utf8');
    expect(RefFiles.supports(always)).toBe(false);
    expect(RefFiles.supports('[core]\n\tlogAllRefUpdates = always\n')).toBe(false);
    // Why: with "always", git keeps a reflog for every ref, ours included.
    const c1 = commit(dir, 'one');
    git(dir, ['update-ref', 'refs/gastown/logged', c1]);
    expect(existsSync(join(gitDir, 'logs/refs/gastown/logged'))).toBe(true);
  });
});

describe('RefFiles: sha256 repositories', () => {
  test('creates and updates refs with 64-hex oids; git agrees, loose and packed', () => {
    const { dir, gitDir, refs } = fresh({ sha256: true });
    expect(git(dir, ['rev-parse', '--show-object-format'])).toBe('sha256');
    const c1 = commit(dir, 'one');
    const c2 = commit(dir, 'two');
    const c3 = commit(dir, 'three');
    expect(c1).toMatch(/^[0-9a-f]{64}$/);

    expect(refs.transaction([{ ref: 'refs/gastown/s/a', newOid: c1, oldOid: null }])).toEqual({ ok: true });
    expect(revParse(dir, 'refs/gastown/s/a')).toBe(c1);
    expect(refs.read('refs/gastown/s/a')).toBe(c1);
    expect(refs.transaction([{ ref: 'refs/gastown/s/a', newOid: c2, oldOid: c1 }])).toEqual({ ok: true });
    expect(revParse(dir, 'refs/gastown/s/a')).toBe(c2);
    expect(refs.transaction([{ ref: 'refs/gastown/s/a', newOid: c3, oldOid: c1 }])).toMatchObject({ ok: false, reason: 'conflict' });
    expect(revParse(dir, 'refs/gastown/s/a')).toBe(c2);
    // A sha1-length oid is not an oid here.
    expect(refs.transaction([{ ref: 'refs/gastown/s/b', newOid: c1.slice(0, 40), oldOid: null }])).toBeUndefined();

    git(dir, ['pack-refs', '--all']);
    expect(refs.read('refs/gastown/s/a')).toBe(c2);
    expect(refs.transaction([{ ref: 'refs/gastown/s/a', newOid: c3, oldOid: c2 }])).toEqual({ ok: true });
    expect(revParse(dir, 'refs/gastown/s/a')).toBe(c3);
    expect(forEachRef(dir, 'refs/gastown/')).toEqual([`${c3} refs/gastown/s/a`]);
    expect(locks(gitDir)).toEqual([]);
  });
});
