import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.js';
import { readPack } from '../../src/ledger/read-pack.js';
import { SmartHttp } from '../../src/ledger/smart-http.js';
import { fetchObjectsOverHttp } from '../../src/ledger/fetch-over-http.js';
import { packBytes } from '../../src/ledger/pack-writer.js';
import { openObjectWriter } from '../../src/ledger/open-object-writer.js';
import { readRemoteLease, swapRemoteLease } from '../../src/ledger/remote-lease.js';
import { syncLedger } from '../../src/ledger/sync-ledger.js';
import { TOWN_KINDS } from '../../src/rig/town-kinds.js';
import { serveGitHttp } from '../support/github-double/git-http-backend.js';
import { git, tempDir } from '../helpers/temp-repo.js';
import { traced } from '../helpers/git-trace.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A bare repository served by `git http-backend` over real HTTP on 127.0.0.1, as GitHub serves one. */
async function servedRemote(opts: { v2?: boolean } = {}) {
  const root = tempDir('smart-http');
  cleanups.push(root.cleanup);
  const remote = join(root.path, 'r.git');
  git(root.path, ['init', '-q', '--bare', '-b', 'main', remote]);
  const seen: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req);
    const url = new URL(req.url ?? '/', 'http://x');
    // A server that speaks only protocol v0 (older git, some proxies): the header never reaches git.
    if (opts.v2 === false) delete req.headers['git-protocol'];
    void serveGitHttp({ projectRoot: root.path, pathInfo: url.pathname, query: url.search.slice(1), user: null }, req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  return { root: root.path, remote, url: `http://x-access-token:s3cr%40t@127.0.0.1:${port}/r.git`, seen };
}

/** A commit on `ref` in the bare repository with the given files, on top of what the ref holds. */
function commitTo(repo: string, ref: string, files: Record<string, string>): string {
  const entries = Object.entries(files).map(([name, content]) => {
    const file = join(repo, `blob-${Math.random()}`);
    writeFileSync(file, content);
    return `100644 blob ${git(repo, ['hash-object', '-w', file])}\t${name}`;
  });
  const tree = execFileSync('git', ['-C', repo, 'mktree'], {
    input: entries.length ? `${entries.join('\n')}\n` : '',
    encoding: 'utf8',
  }).trim();
  let parent = '';
  try {
    parent = git(repo, ['rev-parse', '-q', '--verify', ref]);
  } catch {
    // a new ref
  }
  const commit = git(repo, ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', ref]);
  git(repo, ['update-ref', ref, commit]);
  return commit;
}

describe('SmartHttp (git protocol v2 over HTTP, in-process)', () => {
  test('ls-refs gives exactly the refs under the prefixes, with the credentials of the URL as Basic auth', async () => {
    const r = await servedRemote();
    const a = commitTo(r.remote, 'refs/gastown/beads/gt-1', { 'bead.json': '{"id":"gt-1"}' });
    const a10 = commitTo(r.remote, 'refs/gastown/beads/gt-10', { 'bead.json': '{"id":"gt-10"}' });
    const s = commitTo(r.remote, 'refs/gastown-sync/w1', {});
    commitTo(r.remote, 'refs/heads/main', { 'README.md': 'hi' });
    const http = new SmartHttp();
    expect(await http.lsRefs(r.url, ['refs/gastown-sync/'])).toEqual(new Map([['refs/gastown-sync/w1', s]]));
    expect(await http.lsRefs(r.url, ['refs/gastown/'])).toEqual(
      new Map([
        ['refs/gastown/beads/gt-1', a],
        ['refs/gastown/beads/gt-10', a10],
      ]),
    );
    expect(await http.lsRefs(r.url, ['refs/nothing/'])).toEqual(new Map());
    const auth = r.seen.map((req) => req.headers.authorization);
    expect(new Set(auth)).toEqual(new Set([`Basic ${Buffer.from('x-access-token:s3cr@t').toString('base64')}`]));
    // The capabilities are asked once per remote, then only commands are posted.
    expect(r.seen.filter((req) => req.method === 'GET')).toHaveLength(1);
  });

  test('fetch brings the objects a commit reaches beyond the haves, deltas resolved', async () => {
    const r = await servedRemote();
    // Two versions of a large file, repacked so the server sends the second as a delta of the first.
    const big = Array.from({ length: 400 }, (_, i) => `line ${i} of a file long enough to be worth a delta\n`).join('');
    const first = commitTo(r.remote, 'refs/gastown/beads/gt-1', { 'bead.json': big });
    const second = commitTo(r.remote, 'refs/gastown/beads/gt-1', { 'bead.json': `${big}one more line\n` });
    git(r.remote, ['repack', '-adf', '-q']);
    const packDir = join(r.remote, 'objects/pack');
    const packName = readdirSync(packDir).find((n) => n.endsWith('.pack'))!;
    expect(git(r.remote, ['verify-pack', '-v', join(packDir, packName)])).toMatch(/chain length = 1/);
    const http = new SmartHttp();
    const pack = await http.fetchPack(r.url, [second], []);
    expect(pack).not.toBeNull();
    const objects = readPack(pack!, 'sha1');
    const expected = git(r.remote, ['rev-list', '--objects', second])
      .split('\n')
      .map((l) => l.split(' ')[0]!);
    expect(new Set(objects.map((o) => o.oid))).toEqual(new Set(expected));
    for (const o of objects) expect(o.content.equals(gitBytes(r.remote, ['cat-file', o.type, o.oid]))).toBe(true);
    // With the first commit as a have, nothing it reaches comes again.
    const again = readPack((await http.fetchPack(r.url, [second], [first]))!, 'sha1');
    expect(again.map((o) => o.oid)).not.toContain(first);
    expect(again.map((o) => o.oid)).toContain(second);
  });

  test('a server without protocol v2, or not there at all, gets null (git does it), never a wrong answer', async () => {
    const r = await servedRemote({ v2: false });
    commitTo(r.remote, 'refs/gastown/beads/gt-1', { 'bead.json': '{}' });
    expect(await new SmartHttp().lsRefs(r.url, ['refs/gastown/'])).toBeNull();
    expect(await new SmartHttp().lsRefs('http://127.0.0.1:9/r.git', ['refs/gastown/'])).toBeNull();
    expect(SmartHttp.speaks('https://h/r.git', { HTTPS_PROXY: 'http://proxy:3128' })).toBe(false);
    expect(SmartHttp.speaks('http://h/r.git', { HTTPS_PROXY: 'http://proxy:3128' })).toBe(true);
    expect(SmartHttp.speaks('http://h.example/r.git', { all_proxy: 'http://proxy:3128' })).toBe(false);
    expect(SmartHttp.speaks('https://ghe.corp.example/r.git', { https_proxy: 'http://p:1', no_proxy: 'localhost,.corp.example' })).toBe(
      true,
    );
    expect(SmartHttp.speaks('http://127.0.0.1:8080/r.git', { http_proxy: 'http://p:1', NO_PROXY: '127.0.0.1' })).toBe(true);
    expect(SmartHttp.speaks('https://github.com/o/r.git', { GIT_SSL_CAINFO: '/etc/ssl/certs/ca-certificates.crt' })).toBe(true);
    expect(SmartHttp.speaks('/srv/r.git', {})).toBe(false);
    expect(SmartHttp.speaks('https://h/r.git', {})).toBe(true);
  });
});

describe('readPack', () => {
  test('reads what git itself packs: ref-deltas and ofs-deltas alike, and refuses a damaged pack', async () => {
    const r = await servedRemote();
    const big = Array.from({ length: 300 }, (_, i) => `entry ${i}: a line that repeats with a small change\n`).join('');
    commitTo(r.remote, 'refs/gastown/beads/gt-1', { 'bead.json': big });
    const tip = commitTo(r.remote, 'refs/gastown/beads/gt-1', { 'bead.json': `${big}and one more\n` });
    const objects = git(r.remote, ['rev-list', '--objects', tip]);
    for (const ofs of [false, true]) {
      const pack = execFileSync('git', ['-C', r.remote, 'pack-objects', '--stdout', ...(ofs ? ['--delta-base-offset'] : [])], {
        input: `${objects}\n`,
      });
      const read = readPack(pack, 'sha1');
      expect(read).toHaveLength(objects.split('\n').length);
      for (const o of read) expect(o.content.equals(gitBytes(r.remote, ['cat-file', o.type, o.oid]))).toBe(true);
      const damaged = Buffer.from(pack);
      damaged[40] = damaged[40]! ^ 0xff;
      expect(() => readPack(damaged, 'sha1')).toThrow();
    }
  });
});

function gitBytes(repo: string, args: string[]): Buffer {
  return execFileSync('git', ['-C', repo, ...args]);
}

describe('fetchObjectsOverHttp', () => {
  test('writes nothing and says false when the pack does not hold what its commits name', async () => {
    const r = await servedRemote();
    const first = commitTo(r.remote, 'refs/gastown/beads/gt-1', { 'bead.json': '{"v":1}' });
    const second = commitTo(r.remote, 'refs/gastown/beads/gt-1', { 'bead.json': '{"v":2}' });
    const dir = tempDir('smart-http-clone');
    cleanups.push(dir.cleanup);
    git(dir.path, ['init', '-q', '--bare', 'c.git']);
    const ledger = await Ledger.open({ kinds: TOWN_KINDS, repoDir: join(dir.path, 'c.git') });
    cleanups.push(() => ledger.close());
    // A have this clone does not hold: the server leaves the first commit out, and its parent is missing here.
    expect(await fetchObjectsOverHttp(ledger, new SmartHttp(), r.url, [second], [first])).toBe(false);
    expect(await ledger.objectType(second)).toBeNull();
    expect(await fetchObjectsOverHttp(ledger, new SmartHttp(), r.url, [second], [])).toBe(true);
    expect(await ledger.objectType(second)).toBe('commit');
    expect(await ledger.objectType(first)).toBe('commit');
  });
});

describe('syncLedger over smart HTTP in-process', () => {
  test('two clones sync through an HTTP remote with git only for pushes, and converge as with git', async () => {
    const r = await servedRemote();
    const dir = tempDir('smart-http-sync');
    cleanups.push(dir.cleanup);
    const open = async (name: string) => {
      git(dir.path, ['init', '-q', '-b', 'main', name]);
      const ledger = await Ledger.open({ kinds: TOWN_KINDS, repoDir: join(dir.path, name) });
      cleanups.push(() => ledger.close());
      return ledger;
    };
    const a = await open('a');
    const b = await open('b');
    const http = new SmartHttp();
    const bead = (id: string, title: string) => ({ id, title, body: '', priority: 2, labels: [], status: 'open' });
    await a.transact((tx) => tx.put('beads', 'gt-a1', bead('gt-a1', 'from a')));
    await syncLedger(a, r.url, { http });
    await b.transact((tx) => tx.put('beads', 'gt-b1', bead('gt-b1', 'from b')));
    await syncLedger(b, r.url, { http });
    await syncLedger(a, r.url, { http });
    expect((await a.get<{ title: string }>('beads', 'gt-b1'))?.value.title).toBe('from b');
    // One clone changes a bead the other made; then the reads of both sides are traced.
    await a.transact((tx) => tx.put('beads', 'gt-b1', bead('gt-b1', 'renamed by a')));
    const pushedA = await traced(dir.path, () => syncLedger(a, r.url, { http }));
    const readB = await traced(dir.path, () => syncLedger(b, r.url, { http }));
    const idleB = await traced(dir.path, () => syncLedger(b, r.url, { http }));
    expect(readB.result.fastForwarded + readB.result.created).toBeGreaterThan(0);
    expect((await b.get<{ title: string }>('beads', 'gt-b1'))?.value.title).toBe('renamed by a');
    expect((await b.get<{ title: string }>('beads', 'gt-a1'))?.value.title).toBe('from a');
    // Neither reads (ls-remote, fetch) nor the push start git.
    expect(pushedA.result.pushed).toBe(1);
    expect(pushedA.commands).toEqual([]);
    expect(git(r.remote, ['rev-parse', 'refs/gastown/beads/gt-b1'])).toBe(
      git(join(dir.path, 'a'), ['rev-parse', 'refs/gastown/beads/gt-b1']),
    );
    expect(readB.commands).toEqual([]);
    expect(idleB.commands).toEqual([]);
    // Both clones change the same bead: the second push loses its compare-and-swap, and the
    // sync fetches, merges and pushes again, as with git.
    await a.transact((tx) => tx.put('beads', 'gt-a1', bead('gt-a1', 'a wins?')));
    await b.transact((tx) => tx.put('beads', 'gt-a1', { ...bead('gt-a1', 'from a'), priority: 0 }));
    await syncLedger(a, r.url, { http });
    const raced = await syncLedger(b, r.url, { http });
    expect(raced.merged).toBe(1);
    await syncLedger(a, r.url, { http });
    expect((await a.get<{ title: string; priority: number }>('beads', 'gt-a1'))?.value).toMatchObject({ title: 'a wins?', priority: 0 });
    // Without it, the same sync runs git's fetch (the test would pass without the change otherwise).
    await a.transact((tx) => tx.put('beads', 'gt-a1', bead('gt-a1', 'again')));
    await syncLedger(a, r.url, { http });
    const viaGit = await traced(dir.path, () => syncLedger(b, r.url));
    expect(viaGit.commands).toContain('fetch');
    expect((await b.get<{ title: string }>('beads', 'gt-a1'))?.value.title).toBe('again');
  });
});

/** The git subcommands a call starts in this process's children, from git's own trace. */

describe('pushes and the lease over smart HTTP in-process', () => {
  test('a push is a compare-and-swap: a stale old value loses, and nothing moves', async () => {
    const r = await servedRemote();
    const first = commitTo(r.remote, 'refs/gastown/beads/gt-1', { 'bead.json': '{"v":1}' });
    const second = commitTo(r.remote, 'refs/gastown/beads/gt-1', { 'bead.json': '{"v":2}' });
    const http = new SmartHttp();
    const zero = '0'.repeat(40);
    // The objects are there already: an empty pack does.
    const stale = await http.receivePack(r.url, [{ ref: 'refs/gastown/beads/gt-1', old: first, new: first }], emptyPack(), zero);
    expect(stale?.statuses.get('refs/gastown/beads/gt-1')).toMatchObject({ ok: false });
    expect(git(r.remote, ['rev-parse', 'refs/gastown/beads/gt-1'])).toBe(second);
    const created = await http.receivePack(r.url, [{ ref: 'refs/gastown/beads/gt-2', old: null, new: first }], emptyPack(), zero);
    expect(created?.statuses.get('refs/gastown/beads/gt-2')).toEqual({ ok: true });
    const again = await http.receivePack(r.url, [{ ref: 'refs/gastown/beads/gt-2', old: null, new: second }], emptyPack(), zero);
    expect(again?.statuses.get('refs/gastown/beads/gt-2')).toMatchObject({ ok: false });
    // A give-back that comes too late (someone moved the ref since) is a lost race, not an error.
    const late = await http.receivePack(r.url, [{ ref: 'refs/gastown/beads/gt-2', old: second, new: null }], null, zero, false);
    expect(late?.statuses.get('refs/gastown/beads/gt-2')).toMatchObject({ ok: false, why: expect.stringMatching(LOST_RACE_WORDS) });
    const deleted = await http.receivePack(r.url, [{ ref: 'refs/gastown/beads/gt-2', old: first, new: null }], null, zero);
    expect(deleted?.statuses.get('refs/gastown/beads/gt-2')).toEqual({ ok: true });
    expect(() => git(r.remote, ['rev-parse', '--verify', '-q', 'refs/gastown/beads/gt-2'])).toThrow();
  });

  test("a remote hook's refusal ends the sync with the hook's own words, as through git", async () => {
    const r = await servedRemote();
    writeFileSync(join(r.remote, 'hooks', 'pre-receive'), '#!/bin/sh\necho "ledger writes are frozen today" >&2\nexit 1\n', {
      mode: 0o755,
    });
    const dir = tempDir('smart-http-hook');
    cleanups.push(dir.cleanup);
    git(dir.path, ['init', '-q', '-b', 'main', 'a']);
    const a = await Ledger.open({ kinds: TOWN_KINDS, repoDir: join(dir.path, 'a') });
    cleanups.push(() => a.close());
    await a.transact((tx) => tx.put('beads', 'gt-1', { id: 'gt-1', title: 't', body: '', priority: 2, labels: [], status: 'open' }));
    const tried = await traced(dir.path, () => syncLedger(a, r.url, { http: new SmartHttp() }).catch((e: Error) => e));
    expect(String(tried.result)).toMatch(/refused the ledger push.*pre-receive hook declined.*ledger writes are frozen today/);
    expect(tried.commands).toEqual([]);
  });

  test('the lease is taken, read and given back with no git process', async () => {
    const r = await servedRemote();
    const dir = tempDir('smart-http-lease');
    cleanups.push(dir.cleanup);
    git(dir.path, ['init', '-q', '--bare', 'm.git']);
    const gitDir = join(dir.path, 'm.git');
    // As the app's mirrors keep it (open-object-writer.ts): found once, not per swap.
    const objects = await openObjectWriter(gitDir);
    const target = { gitDir, objects, url: async () => r.url, ref: 'refs/gastown-leases/app', http: new SmartHttp() };
    const until = new Date(Date.now() + 60_000).toISOString();
    const run = await traced(dir.path, async () => {
      const taken = await swapRemoteLease(target, null, { holder: 'one', expiresAt: until });
      const lost = await swapRemoteLease(target, null, { holder: 'two', expiresAt: until });
      const read = await readRemoteLease(target);
      const given = await swapRemoteLease(target, taken as string, null);
      return { taken, lost, read, given, after: await readRemoteLease(target) };
    });
    expect(run.result.taken).toMatch(/^[0-9a-f]{40}$/);
    expect(run.result.lost).toBe(false);
    expect(run.result.read).toEqual({ oid: run.result.taken, value: { holder: 'one', expiresAt: until } });
    expect(run.result.given).toBe('');
    expect(run.result.after).toBeNull();
    // Only the object writes of the lease commit touch the mirror; no git process at all.
    expect(run.commands).toEqual([]);
  });
});

/** What receive-pack says when a ref is not at the old value given (remote-lease.ts LOST_RACE, push-ledger.ts pushVerdict). */
const LOST_RACE_WORDS = /cannot lock ref|failed to update ref|incorrect old value|but expected|reference already exists/i;

/** A pack with no objects (for updates whose objects the remote holds). */
function emptyPack(): Buffer {
  return packBytes([], 'sha1');
}
