import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { encodeCommit, treeBody } from '../../src/ledger/git-objects.js';
import { ObjectReader } from '../../src/ledger/object-reader.js';
import { PackWriter } from '../../src/ledger/pack-writer.js';
import { git, initRepo, tempDir, TEST_GIT_ENV } from '../helpers/temp-repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function fresh(opts: { sha256?: boolean } = {}) {
  const dir = tempDir('object-reader');
  cleanups.push(dir.cleanup);
  if (opts.sha256) {
    git(dir.path, ['init', '-q', '--object-format=sha256', '-b', 'main']);
    git(dir.path, ['commit', '-q', '--allow-empty', '-m', 'root']);
  } else initRepo(dir.path);
  // No background or automatic gc: the tests decide where objects live.
  git(dir.path, ['config', 'gc.auto', '0']);
  const objectsDir = join(dir.path, '.git', 'objects');
  const hashBytes = opts.sha256 ? 32 : 20;
  return { dir: dir.path, objectsDir, hashBytes, reader: new ObjectReader(objectsDir, hashBytes) };
}

/** git's raw output, as bytes. */
function gitRaw(dir: string, args: string[], input?: Buffer): Buffer {
  return execFileSync('git', args, { cwd: dir, env: TEST_GIT_ENV, input, maxBuffer: 64 * 1024 * 1024 });
}

function hashObject(dir: string, data: Buffer, type = 'blob'): string {
  return gitRaw(dir, ['hash-object', '-w', '-t', type, '--stdin'], data).toString('utf8').trim();
}

/** Whether git can read the object at all. */
function gitHas(dir: string, oid: string): boolean {
  try {
    gitRaw(dir, ['cat-file', '-e', oid]);
    return true;
  } catch {
    return false;
  }
}

/** Asserts the reader returns exactly what `git cat-file` says about the object. */
function expectSameAsGit(reader: ObjectReader, dir: string, oid: string): void {
  const type = git(dir, ['cat-file', '-t', oid]);
  const content = gitRaw(dir, ['cat-file', type, oid]);
  const got = reader.read(oid);
  expect(got, `${type} ${oid}`).not.toBeNull();
  expect(got!.oid).toBe(oid);
  expect(got!.type).toBe(type);
  expect(got!.content.length, `${type} ${oid} size`).toBe(content.length);
  expect(got!.content.equals(content), `${type} ${oid} bytes`).toBe(true);
}

function loosePath(objectsDir: string, oid: string): string {
  return join(objectsDir, oid.slice(0, 2), oid.slice(2));
}

function packIndexes(objectsDir: string): string[] {
  const dir = join(objectsDir, 'pack');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith('.idx'))
    .map((n) => join(dir, n));
}

interface PackEntry {
  oid: string;
  type: string;
  size: number;
  /** Bytes the entry takes in the pack (header and compressed data). */
  packedSize: number;
  /** The delta base, when git stored the object as a delta. */
  base: string | null;
}

/** `git verify-pack -v` of every pack in the repository. */
function packEntries(dir: string, objectsDir: string): PackEntry[] {
  const entries: PackEntry[] = [];
  for (const idx of packIndexes(objectsDir)) {
    for (const line of git(dir, ['verify-pack', '-v', idx]).split('\n')) {
      const f = line.trim().split(/\s+/);
      if (!/^[0-9a-f]{40,64}$/.test(f[0]!) || f.length < 5) continue;
      entries.push({ oid: f[0]!, type: f[1]!, size: Number(f[2]), packedSize: Number(f[3]), base: f.length >= 7 ? f[6]! : null });
    }
  }
  return entries;
}

function commitFiles(dir: string, files: Record<string, Buffer | string>, message: string): string {
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', message]);
  return git(dir, ['rev-parse', 'HEAD']);
}

/** Text that compresses well, distinct per seed. */
function text(bytes: number, seed: string): Buffer {
  let s = '';
  for (let i = 0; s.length < bytes; i++) s += `${seed} line ${i}: the quick brown fox jumps over the lazy dog\n`;
  return Buffer.from(s.slice(0, bytes), 'utf8');
}

describe('ObjectReader: loose objects', () => {
  test('blobs, trees, commits and tags written by git read back as git cat-file shows them', () => {
    const { dir, objectsDir, reader } = fresh();
    const small = hashObject(dir, Buffer.from('hello, gastown\n'));
    const empty = hashObject(dir, Buffer.alloc(0));
    const binary = hashObject(dir, Buffer.from([0, 1, 2, 0, 255, 254, 0, 10, 13]));
    const big = hashObject(dir, randomBytes(100 * 1024));
    const head = commitFiles(dir, { 'a.txt': 'alpha\n', 'b.json': '{"id":"gt-1"}\n' }, 'two files\n\nwith a body');
    const tree = git(dir, ['rev-parse', 'HEAD^{tree}']);
    git(dir, ['tag', '-a', '-m', 'release', 'v1', head]);
    const tag = git(dir, ['rev-parse', 'refs/tags/v1']);

    const all = [small, empty, binary, big, head, tree, tag, git(dir, ['rev-parse', 'HEAD~1'])];
    for (const oid of all) {
      // Precondition: git wrote it as a loose object (nothing has been packed).
      expect(existsSync(loosePath(objectsDir, oid)), oid).toBe(true);
      expectSameAsGit(reader, dir, oid);
    }
    expect(packIndexes(objectsDir)).toEqual([]);
    expect(reader.read(small)!.content.toString('utf8')).toBe('hello, gastown\n');
    expect(reader.read(empty)!.content.length).toBe(0);
    expect(reader.read(head)!.type).toBe('commit');
    expect(reader.read(tree)!.type).toBe('tree');
    expect(reader.read(tag)!.type).toBe('tag');
  });

  test('a damaged loose object is left to git (null)', () => {
    const { dir, objectsDir, reader } = fresh();
    const oid = hashObject(dir, text(4096, 'damaged'));
    expectSameAsGit(reader, dir, oid);
    // Truncate the compressed file: git can no longer read it either.
    const file = loosePath(objectsDir, oid);
    chmodSync(file, 0o644);
    writeFileSync(file, readFileSync(file).subarray(0, 100));
    expect(() => gitRaw(dir, ['cat-file', 'blob', oid])).toThrow();
    expect(reader.read(oid)).toBeNull();
    expect(new ObjectReader(objectsDir, 20).read(oid)).toBeNull();
  });
});

describe('ObjectReader: packs written by git', () => {
  test('reads whole objects from a pack without deltas, large and incompressible ones included', () => {
    const { dir, objectsDir, reader } = fresh();
    const files = {
      'small.txt': Buffer.from('small\n'),
      'empty.txt': Buffer.alloc(0),
      'text-100k.txt': text(100 * 1024, 'compressible'),
      'random-200k.bin': randomBytes(200 * 1024),
      'random-70k.bin': randomBytes(70 * 1024 + 3),
      'random-tiny.bin': randomBytes(17),
    };
    commitFiles(dir, files, 'assorted');
    commitFiles(dir, { 'small.txt': 'changed\n' }, 'second');
    const blobs: Record<string, string> = {};
    for (const name of Object.keys(files)) blobs[name] = git(dir, ['rev-parse', `HEAD~1:${name}`]);

    git(dir, ['repack', '-a', '-d', '-f', '--window=0', '--depth=0']);
    const entries = packEntries(dir, objectsDir);
    // Preconditions: one pack holding every object whole, and no loose copies left.
    expect(packIndexes(objectsDir)).toHaveLength(1);
    expect(entries.filter((e) => e.base !== null)).toEqual([]);
    for (const oid of Object.values(blobs)) {
      expect(entries.map((e) => e.oid)).toContain(oid);
      expect(existsSync(loosePath(objectsDir, oid)), oid).toBe(false);
    }

    for (const e of entries) {
      expect(existsSync(loosePath(objectsDir, e.oid)), e.oid).toBe(false);
      expectSameAsGit(reader, dir, e.oid);
      expect(reader.read(e.oid)!.content.length).toBe(e.size);
    }
    for (const [name, data] of Object.entries(files)) expect(reader.read(blobs[name]!)!.content.equals(data), name).toBe(true);
    // Preconditions on the data: the random blobs are stored no smaller than they are (zlib
    // could not compress them), the text one much smaller.
    for (const name of ['random-200k.bin', 'random-70k.bin', 'random-tiny.bin']) {
      const e = entries.find((x) => x.oid === blobs[name])!;
      expect(e.packedSize, name).toBeGreaterThanOrEqual(e.size);
    }
    const textEntry = entries.find((x) => x.oid === blobs['text-100k.txt'])!;
    expect(textEntry.packedSize).toBeLessThan(textEntry.size / 4);
  });

  test('a deltified object is left to git (null), while whole objects of the same pack are read', () => {
    const { dir, objectsDir, reader } = fresh();
    const base = text(40 * 1024, 'shared');
    const variants: Record<string, Buffer> = {};
    for (let i = 0; i < 6; i++) {
      const v = Buffer.from(base);
      // A few bytes changed per variant: ideal delta material.
      v.write(`variant ${i} here`, 1000 + i * 3000, 'utf8');
      variants[`v${i}.txt`] = v;
    }
    commitFiles(dir, variants, 'similar blobs');
    git(dir, ['repack', '-a', '-d', '-f', '--window=50', '--depth=50']);

    const entries = packEntries(dir, objectsDir);
    const deltas = entries.filter((e) => e.base !== null);
    // Precondition: git did make deltas.
    expect(deltas.length).toBeGreaterThan(0);
    for (const d of deltas) {
      expect(existsSync(loosePath(objectsDir, d.oid))).toBe(false);
      expect(reader.read(d.oid), d.oid).toBeNull();
      // git still reads it, and it is one of our blobs.
      const content = gitRaw(dir, ['cat-file', d.type, d.oid]);
      expect(Object.values(variants).some((v) => v.equals(content))).toBe(true);
    }
    for (const e of entries.filter((x) => x.base === null)) expectSameAsGit(reader, dir, e.oid);
  });
});

describe('ObjectReader: packs written by PackWriter', () => {
  test('reads every object of a pack our own PackWriter wrote, as git does', () => {
    const { dir, objectsDir, reader } = fresh();
    const writer = new PackWriter(objectsDir);
    const expected = new Map<string, { type: string; body: Buffer }>();
    const add = (type: 'blob' | 'tree' | 'commit', body: Buffer) => {
      const oid = writer.add(type, body);
      expected.set(oid, { type, body });
      return oid;
    };
    // Enough objects that every fan-out bucket holds several: the binary search is exercised.
    const blobs: string[] = [];
    for (let i = 0; i < 700; i++) blobs.push(add('blob', Buffer.from(`{"id":"gt-${i}","title":"bead ${i}"}\n`)));
    const bigRandom = add('blob', randomBytes(150 * 1024));
    const bigText = add('blob', text(90 * 1024, 'packwriter'));
    const empty = add('blob', Buffer.alloc(0));
    const tree = add(
      'tree',
      treeBody([
        { name: 'bead.json', oid: blobs[0]! },
        { name: 'big.bin', oid: bigRandom },
      ]),
    );
    const sig = { name: 'gastown', email: 'gastown@gastown.local', time: 1_700_000_000 };
    const commit = add('commit', Buffer.from(encodeCommit({ tree, parents: [], author: sig, committer: sig, message: 'packed\n' })));
    const name = writer.finish();
    expect(name).toMatch(/^[0-9a-f]{40}$/);

    // git accepts the pack and agrees on every object.
    expect(git(dir, ['verify-pack', join(objectsDir, 'pack', `pack-${name}.idx`)])).toBe('');
    expect(
      packEntries(dir, objectsDir)
        .map((e) => e.oid)
        .sort(),
    ).toEqual([...expected.keys()].sort());
    for (const [oid, want] of expected) {
      expect(existsSync(loosePath(objectsDir, oid))).toBe(false);
      const got = reader.read(oid);
      expect(got, oid).not.toBeNull();
      expect(got!.type).toBe(want.type);
      expect(got!.content.equals(want.body), oid).toBe(true);
    }
    for (const oid of [bigRandom, bigText, empty, tree, commit, blobs[0]!, blobs[699]!]) expectSameAsGit(reader, dir, oid);
    // git reads the whole graph through the commit.
    expect(git(dir, ['ls-tree', '-r', '--name-only', commit])).toBe('bead.json\nbig.bin');
    // Bodies are stored, not compressed (zlib per object was most of a bulk import's CPU): git gc compresses later.
    const pack = readFileSync(join(objectsDir, 'pack', `pack-${name}.pack`));
    expect(pack.includes(Buffer.from('{"id":"gt-5","title":"bead 5"}\n'))).toBe(true);
  });
});

describe('ObjectReader: missing objects and new packs', () => {
  test('an oid git does not have reads as null', () => {
    const { dir, objectsDir, reader } = fresh();
    const files: Record<string, string> = {};
    for (let i = 0; i < 300; i++) files[`f${i}.txt`] = `file ${i}\n`;
    commitFiles(dir, files, 'many');
    git(dir, ['repack', '-a', '-d']);
    const present = packEntries(dir, objectsDir).map((e) => e.oid);
    expect(present.length).toBeGreaterThan(300);

    const candidates = [
      '0'.repeat(40),
      'f'.repeat(40),
      'deadbeef'.repeat(5),
      // Same fan-out bucket (and prefix) as a packed object, differing in the last digit.
      ...present.slice(0, 20).map((oid) => oid.slice(0, 39) + (oid[39] === '0' ? '1' : '0')),
    ].filter((oid) => !present.includes(oid));
    for (const oid of candidates) {
      expect(gitHas(dir, oid), oid).toBe(false);
      expect(reader.read(oid), oid).toBeNull();
    }
    // And what is there is still found.
    for (const oid of present.slice(0, 20)) expectSameAsGit(reader, dir, oid);
  });

  test('finds an object in a pack that appeared after the reader listed the packs', () => {
    const { dir, objectsDir, reader } = fresh();
    commitFiles(dir, { 'first.txt': 'first\n' }, 'first');
    git(dir, ['repack', '-a', '-d']);
    const first = git(dir, ['rev-parse', 'HEAD:first.txt']);
    const oldPacks = packIndexes(objectsDir);
    expect(oldPacks).toHaveLength(1);
    // The reader finds this one in the pack: it has listed the packs now.
    expect(existsSync(loosePath(objectsDir, first))).toBe(false);
    expectSameAsGit(reader, dir, first);
    const missing = '1'.repeat(40);
    expect(reader.read(missing)).toBeNull();

    const later = hashObject(dir, Buffer.from('added later\n'));
    git(dir, ['update-ref', 'refs/gastown/later', later]);
    expectSameAsGit(reader, dir, later); // loose for now
    git(dir, ['repack', '-a', '-d']);
    git(dir, ['prune-packed']);
    // Preconditions: the old pack is gone, the object lives only in the new pack.
    expect(existsSync(loosePath(objectsDir, later))).toBe(false);
    const newPacks = packIndexes(objectsDir);
    expect(newPacks).toHaveLength(1);
    expect(newPacks).not.toEqual(oldPacks);
    expect(packEntries(dir, objectsDir).map((e) => e.oid)).toContain(later);

    expectSameAsGit(reader, dir, later);
    expectSameAsGit(reader, dir, first);
    expect(reader.read(missing)).toBeNull();
  });
});

describe('ObjectReader: sha256 repositories', () => {
  test('reads loose objects, git packs and PackWriter packs with 32-byte ids', () => {
    const { dir, objectsDir, hashBytes, reader } = fresh({ sha256: true });
    expect(hashBytes).toBe(32);
    expect(git(dir, ['rev-parse', '--show-object-format'])).toBe('sha256');
    const blob = hashObject(dir, Buffer.from('sha256 blob\n'));
    expect(blob).toMatch(/^[0-9a-f]{64}$/);
    const head = commitFiles(dir, { 'a.txt': 'a\n', 'big.bin': randomBytes(80 * 1024) }, 'sha256 commit');
    const tree = git(dir, ['rev-parse', 'HEAD^{tree}']);
    for (const oid of [blob, head, tree]) {
      expect(existsSync(loosePath(objectsDir, oid))).toBe(true);
      expectSameAsGit(reader, dir, oid);
    }

    git(dir, ['update-ref', 'refs/gastown/blob', blob]);
    git(dir, ['repack', '-a', '-d', '-f', '--window=0']);
    const entries = packEntries(dir, objectsDir);
    expect(entries.length).toBeGreaterThanOrEqual(6);
    for (const e of entries) {
      expect(e.oid).toMatch(/^[0-9a-f]{64}$/);
      expect(existsSync(loosePath(objectsDir, e.oid))).toBe(false);
      expectSameAsGit(new ObjectReader(objectsDir, 32), dir, e.oid);
    }

    const writer = new PackWriter(objectsDir, 'sha256');
    const ours: string[] = [];
    for (let i = 0; i < 50; i++) ours.push(writer.add('blob', Buffer.from(`sha256 packed ${i}\n`)));
    ours.push(writer.add('blob', randomBytes(70 * 1024)));
    expect(writer.finish()).toMatch(/^[0-9a-f]{64}$/);
    for (const oid of ours) {
      expect(oid).toMatch(/^[0-9a-f]{64}$/);
      expectSameAsGit(reader, dir, oid);
    }
    expect(reader.read('0'.repeat(64))).toBeNull();
    expect(gitHas(dir, '0'.repeat(64))).toBe(false);
  });
});
