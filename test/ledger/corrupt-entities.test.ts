import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { isGastownError } from '../../src/errors.js';
import { Ledger, type EntityValidator } from '../../src/ledger/ledger.js';
import { BAD_BEADS, writeRawEntity } from '../helpers/corrupt-entity.js';
import { git, initRepo, tempDir } from '../helpers/temp-repo.js';
import { TOWN_KINDS } from '../../src/rig/town-kinds.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** Small checks of our own: the ledger knows no kinds, it only runs what it is given. */
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const validators: Record<string, EntityValidator> = {
  beads: (v) =>
    !isObject(v)
      ? 'not an object'
      : typeof v.id !== 'string'
        ? 'id: expected string'
        : !Array.isArray(v.labels)
          ? 'labels: expected array'
          : null,
  feed: (v) => (isObject(v) && typeof v.id === 'string' ? null : 'id: expected string'),
};

async function open(dir: string, warnings: string[] = []): Promise<Ledger> {
  const ledger = await Ledger.open({
    kinds: TOWN_KINDS,
    repoDir: dir,
    validators,
    onInvalid: (ref, problem) => warnings.push(`${ref}: ${problem}`),
  });
  cleanups.push(() => ledger.close());
  return ledger;
}

async function repoWithBadBeads(): Promise<{ dir: string }> {
  const tmp = tempDir('corrupt');
  cleanups.push(tmp.cleanup);
  initRepo(tmp.path);
  const ledger = await open(tmp.path);
  await ledger.transact((tx) => {
    tx.put('beads', 'gt-good', { id: 'gt-good', labels: [] });
    tx.put('beads', 'gt-fine', { id: 'gt-fine', labels: ['a'] });
  });
  writeRawEntity(tmp.path, 'refs/gastown/beads/gt-bad1', BAD_BEADS.badJson());
  writeRawEntity(tmp.path, 'refs/gastown/beads/gt-bad2', BAD_BEADS.noFile());
  writeRawEntity(tmp.path, 'refs/gastown/beads/gt-bad3', BAD_BEADS.wrongShape());
  return { dir: tmp.path };
}

describe('reading past bad entities', () => {
  test('list leaves out every bad entity and reports each once, naming its ref and the problem', async () => {
    const { dir } = await repoWithBadBeads();
    const warnings: string[] = [];
    const ledger = await open(dir, warnings);

    const first = await ledger.list<{ id: string }>('beads');
    const second = await ledger.list<{ id: string }>('beads');

    expect(first.map((b) => b.id).sort()).toEqual(['gt-fine', 'gt-good']);
    expect(second.map((b) => b.id).sort()).toEqual(['gt-fine', 'gt-good']);
    expect(warnings.sort()).toEqual([
      'refs/gastown/beads/gt-bad1: bead.json is not valid JSON',
      expect.stringMatching(/^refs\/gastown\/beads\/gt-bad2: commit [0-9a-f]{12} holds no bead\.json$/),
      'refs/gastown/beads/gt-bad3: bead.json does not validate: id: expected string',
    ]);
    expect(ledger.skipped.map((s) => s.ref).sort()).toEqual([
      'refs/gastown/beads/gt-bad1',
      'refs/gastown/beads/gt-bad2',
      'refs/gastown/beads/gt-bad3',
    ]);
  });

  test('the list cache never holds a bad value, so the next process sees (and reports) it again', async () => {
    const { dir } = await repoWithBadBeads();
    await (await open(dir)).list('beads');
    const warnings: string[] = [];

    const again = await (await open(dir, warnings)).list<{ id: string }>('beads');

    const cacheFile = join(dir, '.git', 'gastown', 'cache', 'refs_gastown_beads.json');
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as { e: [string, string, unknown][] };
    expect(cached.e.map(([id]) => id).sort()).toEqual(['gt-fine', 'gt-good']);
    expect(again.map((b) => b.id).sort()).toEqual(['gt-fine', 'gt-good']);
    expect(warnings).toHaveLength(3);
  });

  test('getMany leaves bad entities out; get names the bad one with a coded error and reads the others', async () => {
    const { dir } = await repoWithBadBeads();
    const warnings: string[] = [];
    const ledger = await open(dir, warnings);

    const many = await ledger.getMany<{ id: string }>('beads', ['gt-good', 'gt-bad1', 'gt-bad3', 'gt-none']);
    const error = await ledger.get('beads', 'gt-bad1').catch((e: unknown) => e);

    expect(many.map((b) => b.id)).toEqual(['gt-good']);
    expect(warnings).toHaveLength(2);
    expect(isGastownError(error, 'gastown_corrupt_entity')).toBe(true);
    expect((error as Error).message).toBe('refs/gastown/beads/gt-bad1 is corrupt: bead.json is not valid JSON (run gt doctor)');
    expect((await ledger.get<{ id: string }>('beads', 'gt-good'))?.value.id).toBe('gt-good');
  });

  test('inside a transaction, reading the bad entity fails that transaction only', async () => {
    const { dir } = await repoWithBadBeads();
    const ledger = await open(dir);

    const bad = ledger.transact(async (tx) => tx.put('beads', 'gt-bad3', { ...(await tx.get<object>('beads', 'gt-bad3')), labels: [] }));
    await expect(bad).rejects.toSatisfy((e: unknown) => isGastownError(e, 'gastown_corrupt_entity'));
    await ledger.transact(async (tx) => tx.put('beads', 'gt-good', { ...(await tx.get<object>('beads', 'gt-good')), labels: ['b'] }));

    expect((await ledger.get<{ labels: string[] }>('beads', 'gt-good'))?.value.labels).toEqual(['b']);
    expect(git(dir, ['cat-file', '-p', 'refs/gastown/beads/gt-bad3:bead.json'])).toBe('{"id":5,"labels":"x"}');
  });

  test('a damaged JSON copy in the message falls back to the tree', async () => {
    const tmp = tempDir('corrupt');
    cleanups.push(tmp.cleanup);
    initRepo(tmp.path);
    writeRawEntity(tmp.path, 'refs/gastown/beads/gt-tree', {
      files: { 'bead.json': JSON.stringify({ id: 'gt-tree', labels: [] }) },
      message: 'update beads/gt-tree\n\n{"id": "gt-tree", "lab\n',
    });
    const warnings: string[] = [];
    const ledger = await open(tmp.path, warnings);

    expect((await ledger.get<{ id: string }>('beads', 'gt-tree'))?.value).toEqual({ id: 'gt-tree', labels: [] });
    expect((await ledger.list('beads')).map((b) => b.value)).toEqual([{ id: 'gt-tree', labels: [] }]);
    expect(warnings).toEqual([]);
  });

  test('chains, history and trail leave out bad entries and report each once', async () => {
    const { dir } = await repoWithBadBeads();
    const ledger = await open(dir);
    await ledger.append('feed', 'w1', { id: 'ev-1' });
    const tip = git(dir, ['rev-parse', 'refs/gastown/feed/w1']);
    const shaped = writeRawEntity(dir, 'refs/gastown/feed/w1', { files: { 'event.json': '[1]' }, message: 'feed x\n\n[1]\n', parent: tip });
    const noJson = writeRawEntity(dir, 'refs/gastown/feed/w1', { files: { 'event.json': 'nope' }, message: 'by hand\n', parent: shaped });
    writeRawEntity(dir, 'refs/gastown/feed/w1', {
      files: { 'event.json': '{"id":"ev-4"}' },
      message: 'by hand, tree only\n',
      parent: noJson,
    });
    await ledger.append('feed', 'w1', { id: 'ev-5' });
    await ledger.transact((tx) => tx.put('beads', 'gt-good', { id: 'gt-good', labels: ['later'] }));
    const goodTip = git(dir, ['rev-parse', 'refs/gastown/beads/gt-good']);
    writeRawEntity(dir, 'refs/gastown/beads/gt-good', { files: { 'bead.json': '"x"' }, message: 'oops\n\n"x"\n', parent: goodTip });
    const warnings: string[] = [];
    const reader = await open(dir, warnings);

    const one = await reader.readChain<{ id: string }>('feed', 'w1');
    const all = await reader.readChain<{ id: string }>('feed', null);
    const history = await reader.history<{ labels: string[] }>('beads', 'gt-good');
    const trail = await reader.trail<{ id: unknown }>(['beads']);

    expect(one.map((e) => e.value.id)).toEqual(['ev-1', 'ev-4', 'ev-5']);
    expect(all.map((e) => e.value.id)).toEqual(['ev-1', 'ev-4', 'ev-5']);
    expect(history.map((h) => h.value.labels)).toEqual([['later'], []]);
    expect(trail.every((t) => typeof t.value.id === 'string')).toBe(true);
    expect(trail.map((t) => t.kind)).toEqual(trail.map(() => 'beads'));
    const feedWarnings = warnings.filter((w) => w.startsWith('refs/gastown/feed/w1: '));
    expect(feedWarnings).toEqual([
      `refs/gastown/feed/w1: ${shaped.slice(0, 12)}: event.json does not validate: id: expected string`,
      `refs/gastown/feed/w1: ${noJson.slice(0, 12)}: event.json is not valid JSON`,
    ]);
    expect(warnings.filter((w) => w.startsWith('refs/gastown/beads/gt-good: '))).toHaveLength(1);
  });
});

describe('ledger prefix', () => {
  test.each([
    'refs/../../../escape/',
    'refs/gastown',
    'gastown/',
    'refs/',
    'refs//x/',
    'refs/.hidden/',
    'refs/a.lock/',
    'refs/with space/',
    'refs/a~b/',
    'refs/a^b/',
    'refs/a:b/',
    'refs/a?b/',
    'refs/a*b/',
    'refs/a[b/',
    'refs/a\\b/',
    'refs/a@{b/',
    'refs/tab\there/',
  ])('Ledger.open refuses %j', async (prefix) => {
    const tmp = tempDir('prefix');
    cleanups.push(tmp.cleanup);
    initRepo(tmp.path);

    const error = await Ledger.open({ kinds: TOWN_KINDS, repoDir: tmp.path, prefix }).catch((e: unknown) => e);

    expect(isGastownError(error, 'gastown_config')).toBe(true);
    expect((error as Error).message).toMatch(/^bad ledger prefix .+: .+$/);
  });

  test.each(['refs/gastown/', 'refs/heads/gastown-ledger/', 'refs/a.b/c-d_e/', 'refs/x.lock.y/'])(
    'Ledger.open takes %j',
    async (prefix) => {
      const tmp = tempDir('prefix');
      cleanups.push(tmp.cleanup);
      initRepo(tmp.path);

      const ledger = await open(tmp.path).then((l) => (l.close(), Ledger.open({ kinds: TOWN_KINDS, repoDir: tmp.path, prefix })));
      cleanups.push(() => ledger.close());
      await ledger.transact((tx) => tx.put('beads', 'gt-1', { id: 'gt-1', labels: [] }));

      expect(git(tmp.path, ['rev-parse', '--verify', `${prefix}beads/gt-1`])).toMatch(/^[0-9a-f]{40}$/);
    },
  );
});
