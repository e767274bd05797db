import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { acquireRemoteLease } from '../../src/ledger/acquire-remote-lease.js';
import { openObjectWriter } from '../../src/ledger/open-object-writer.js';
import { leaseRefFor, readRemoteLease, swapRemoteLease, type RemoteLeaseTarget } from '../../src/ledger/remote-lease.js';
import { logGitCalls } from '../helpers/git-call-log.js';
import { git, tempDir } from '../helpers/temp-repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** One bare remote and `n` bare mirrors of their own (the replicas' data dirs), each a lease target. */
function replicas(n: number): { remote: string; targets: RemoteLeaseTarget[] } {
  const root = tempDir('remote-lease');
  cleanups.push(root.cleanup);
  const remote = join(root.path, 'remote.git');
  git(root.path, ['init', '-q', '--bare', remote]);
  const targets = Array.from({ length: n }, (_, i) => {
    const gitDir = join(root.path, `replica-${i}.git`);
    git(root.path, ['init', '-q', '--bare', gitDir]);
    return { gitDir, url: async () => `file://${remote}`, ref: leaseRefFor('refs/gastown/', 'app') };
  });
  return { remote, targets };
}

test('the lease ref sits beside the ledger namespace, never in it', () => {
  expect(leaseRefFor('refs/gastown/', 'app')).toBe('refs/gastown-leases/app');
  expect(leaseRefFor('refs/heads/gastown-ledger/', 'app')).toBe('refs/heads/gastown-ledger-leases/app');
  expect(() => leaseRefFor('refs/gastown/', '../x')).toThrow(/not a lease name/);
});

test('swap is compare-and-swap on the remote: create only if absent, move only from the value seen', async () => {
  const { targets } = replicas(2);
  const [a, b] = targets as [RemoteLeaseTarget, RemoteLeaseTarget];
  const until = new Date(Date.now() + 60_000).toISOString();
  const first = await swapRemoteLease(a, null, { holder: 'a', expiresAt: until });
  expect(first).toMatch(/^[0-9a-f]{40}$/);
  // B did not see A's lease: its "create if absent" is refused, as is a move from a stale value.
  expect(await swapRemoteLease(b, null, { holder: 'b', expiresAt: until })).toBe(false);
  expect(await readRemoteLease(b)).toEqual({ oid: first, value: { holder: 'a', expiresAt: until } });
  const moved = await swapRemoteLease(b, first as string, { holder: 'b', expiresAt: until });
  expect(moved).toMatch(/^[0-9a-f]{40}$/);
  expect(await swapRemoteLease(a, first as string, null)).toBe(false);
  expect(await swapRemoteLease(b, moved as string, null)).toBe('');
  expect(await readRemoteLease(a)).toBeNull();
});

test('eight replicas taking one lease at once: one holder at a time, every one gets its turn', async () => {
  const { targets } = replicas(8);
  let inside = 0;
  let most = 0;
  const order: string[] = [];
  await Promise.all(
    targets.map(async (t, i) => {
      const lease = await acquireRemoteLease({ ...t, holder: `replica-${i}`, ttlMs: 30_000, waitMs: 60_000 });
      inside += 1;
      most = Math.max(most, inside);
      order.push(lease.holder);
      await new Promise((r) => setTimeout(r, 20));
      inside -= 1;
      await lease.release();
    }),
  );
  expect(most).toBe(1);
  expect([...order].sort()).toEqual(targets.map((_, i) => `replica-${i}`).sort());
}, 60_000);

test('a holder that stopped renewing (a dead replica) loses the lease once it expires; a live one keeps it by renewing', async () => {
  const { targets } = replicas(3);
  const [dead, live, next] = targets as [RemoteLeaseTarget, RemoteLeaseTarget, RemoteLeaseTarget];
  // The dead replica took it and never came back.
  const deadUntil = Date.now() + 800;
  await swapRemoteLease(dead, null, { holder: 'dead', expiresAt: new Date(deadUntil).toISOString() });
  const waits: string[] = [];
  const lease = await acquireRemoteLease({ ...live, holder: 'live', ttlMs: 1500, onWait: (h) => waits.push(h.holder) });
  expect(Date.now()).toBeGreaterThanOrEqual(deadUntil);
  expect(lease.tookOverFrom).toBe('dead');
  expect(waits[0]).toBe('dead');

  // Renewed while held (every 500 ms): after more than two of its lifetimes it is still this holder's.
  await new Promise((r) => setTimeout(r, 3500));
  expect(lease.held()).toBe(true);
  expect((await readRemoteLease(next))?.value?.holder).toBe('live');
  await expect(acquireRemoteLease({ ...next, holder: 'next', ttlMs: 1500, waitMs: 300 })).rejects.toThrow(/held by live/);
  await lease.release();
  const after = await acquireRemoteLease({ ...next, holder: 'next', ttlMs: 1500 });
  expect(after.tookOverFrom).toBeNull();
  await after.release();
}, 30_000);

test('a free lease is taken with one push and given back with one more; a held one is read first', async () => {
  const { targets } = replicas(2);
  const [b, given] = targets as [RemoteLeaseTarget, RemoteLeaseTarget];
  // The caller keeps the writer of its directory's object store (as the app's mirrors do).
  const a = { ...given, objects: await openObjectWriter(given.gitDir) };
  const calls = logGitCalls();
  cleanups.push(() => calls.stop());
  const lease = await acquireRemoteLease({ ...a, holder: 'a', ttlMs: 30_000 });
  const taken = calls.take();
  expect(taken).toHaveLength(1);
  expect(taken[0]).toMatch(/^push .*--force-with-lease=refs\/gastown-leases\/app: /);
  // Another replica finds it held: its "create if absent" is refused, then it reads the value.
  await expect(acquireRemoteLease({ ...b, holder: 'b', ttlMs: 30_000, waitMs: 0 })).rejects.toThrow(/held by a/);
  expect(calls.take().map((c) => c.split(' ')[0])).toEqual(['rev-parse', 'push', 'fetch', 'log']);
  await lease.release();
  expect(calls.take()).toEqual([expect.stringMatching(/^push .* :refs\/gastown-leases\/app$/)]);
});

test('a lease commit is written in the object format of the directory as it is now, not of one that was there before', async () => {
  const root = tempDir('remote-lease-format');
  cleanups.push(root.cleanup);
  const ref = leaseRefFor('refs/gastown/', 'app');
  const until = new Date(Date.now() + 60_000).toISOString();
  const gitDir = join(root.path, 'mirror.git');
  const remote = (format: string) => {
    const path = join(root.path, `remote-${format}.git`);
    git(root.path, ['init', '-q', '--bare', `--object-format=${format}`, path]);
    return path;
  };
  const sha1 = remote('sha1');
  git(root.path, ['init', '-q', '--bare', '--object-format=sha1', gitDir]);
  expect(await swapRemoteLease({ gitDir, url: async () => `file://${sha1}`, ref }, null, { holder: 'a', expiresAt: until })).toMatch(
    /^[0-9a-f]{40}$/,
  );
  // The directory removed and made again in the other format, in the same process.
  rmSync(gitDir, { recursive: true, force: true });
  const sha256 = remote('sha256');
  git(root.path, ['init', '-q', '--bare', '--object-format=sha256', gitDir]);
  const target = { gitDir, url: async () => `file://${sha256}`, ref };
  expect(await swapRemoteLease(target, null, { holder: 'b', expiresAt: until })).toMatch(/^[0-9a-f]{64}$/);
  expect((await readRemoteLease(target))?.value?.holder).toBe('b');
});
