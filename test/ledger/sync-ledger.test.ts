import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { Ledger, type EntityValidator } from '../../src/ledger/ledger.js';
import { mergeValues, type MergeConflict } from '../../src/ledger/merge-values.js';
import { syncLedger } from '../../src/ledger/sync-ledger.js';
import { pushLedger } from '../../src/ledger/push-ledger.js';
import { git, tempDir } from '../helpers/temp-repo.js';
import { TOWN_KINDS } from '../../src/rig/town-kinds.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A bare remote and two clones, each with its own ledger; clock per clone so edits can be ordered. */
async function twoClones(validators: Partial<Record<string, EntityValidator>> = {}) {
  const root = tempDir('sync');
  cleanups.push(root.cleanup);
  const remote = join(root.path, 'remote.git');
  git(root.path, ['init', '-q', '--bare', '-b', 'main', remote]);
  const open = async (name: string) => {
    const dir = join(root.path, name);
    git(root.path, ['init', '-q', '-b', 'main', dir]);
    let t = Date.parse('2026-01-01T00:00:00Z');
    const clock = { advance: (s: number) => (t += s * 1000) };
    const ledger = await Ledger.open({ kinds: TOWN_KINDS, repoDir: dir, now: () => new Date(t), validators });
    cleanups.push(() => ledger.close());
    return { dir, ledger, clock };
  };
  return { root: root.path, remote, a: await open('a'), b: await open('b') };
}

describe('pushLedger', () => {
  test('a leased push is a compare-and-swap: a stale expectation is turned down and the remote keeps its value', async () => {
    const { remote, a, b } = await twoClones();
    const ref = 'refs/gastown/heartbeats/nux';
    const beat = (at: string) => ({ agent: 'nux', bead: 'gt-1', runner: 'r', at });
    const put = (ledger: Ledger, at: string) => ledger.transact((tx) => tx.put('heartbeats', 'nux', beat(at), 'heartbeat'));
    await put(a.ledger, '1');
    const first = git(a.dir, ['rev-parse', ref]);
    await pushLedger(a.ledger, remote, [ref], []);
    // b replaces the remote's heartbeat (its own history: heartbeats are replaced, not grown).
    await put(b.ledger, '2');
    expect((await pushLedger(b.ledger, remote, [], [{ ref, expect: first }])).rejected).toEqual([]);
    const bs = git(remote, ['rev-parse', ref]);
    expect(bs).toBe(git(b.dir, ['rev-parse', ref]));

    // a still expects its own value: its replacement must not land over b's.
    await put(a.ledger, '3');
    const outcome = await pushLedger(a.ledger, remote, [], [{ ref, expect: first }]);

    expect(outcome.rejected).toEqual([ref]);
    expect(git(remote, ['rev-parse', ref])).toBe(bs);
  });
});

describe('syncLedger', () => {
  test("a sync fetches only the refs the remote changed; when nothing changed it only reads the writers' summaries (on a local remote, from its ref files)", async () => {
    const { root, remote, a, b } = await twoClones();
    const bead = (i: number) => ({ id: `gt-f${i}`, title: `bead ${i}`, body: '', priority: 2, labels: [], status: 'open' });
    await a.ledger.createMany(
      'beads',
      Array.from({ length: 40 }, (_, i) => ({ id: `gt-f${i}`, value: bead(i) })),
    );
    await syncLedger(a.ledger, remote);
    expect((await syncLedger(b.ledger, remote)).created).toBe(40);
    /** The argv of every git command a sync by `b` starts (git's own trace). */
    const traced = async () => {
      const file = join(root, `trace-${Math.random()}`);
      const before = process.env.GIT_TRACE2_EVENT;
      process.env.GIT_TRACE2_EVENT = file;
      try {
        const result = await syncLedger(b.ledger, remote);
        // No file: the sync started no git process at all.
        const argvs = (existsSync(file) ? readFileSync(file, 'utf8') : '')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { event: string; argv?: string[] })
          .filter((e) => e.event === 'start')
          .map((e) => e.argv!);
        return { result, argvs };
      } finally {
        if (before === undefined) delete process.env.GIT_TRACE2_EVENT;
        else process.env.GIT_TRACE2_EVENT = before;
      }
    };
    /** What a sync's git commands fetched (their `+src:dst` refspecs), pushed, or listed. */
    const fetched = (argvs: string[][]) => argvs.filter((v) => v.includes('fetch')).map((v) => v.filter((x) => x.startsWith('+')));
    // Nothing changed: the remote is on this machine, so the summaries are read from its ref
    // files, as they were recorded: no git process at all.
    const idle = await traced();
    expect(idle.result).toMatchObject({ created: 0, fastForwarded: 0, merged: 0, pushed: 0 });
    expect(idle.argvs).toEqual([]);

    a.clock.advance(5);
    await a.ledger.transact((tx) => tx.put('beads', 'gt-f7', { ...bead(7), title: 'changed' }));
    await syncLedger(a.ledger, remote);
    const one = await traced();
    expect(one.result).toMatchObject({ created: 0, fastForwarded: 1, merged: 0, pushed: 0 });
    // a's summary names the bead; it is all that is taken, and the remote's 39 other refs are
    // not even listed. The remote is on this machine: read and copied from its files, no process.
    expect(one.argvs).toEqual([]);
    expect(one.argvs.filter((v) => v.includes('ls-remote'))).toEqual([]);
    expect((await b.ledger.get<{ title: string }>('beads', 'gt-f7'))?.value.title).toBe('changed');
    // The tracking refs hold what the remote holds, so the next sync fetches nothing.
    expect(git(b.dir, ['for-each-ref', '--format=%(objectname) %(refname:lstrip=2)', 'refs/gastown-remote/'])).toBe(
      git(remote, ['for-each-ref', '--format=%(objectname) %(refname:lstrip=1)', 'refs/gastown/']),
    );
    // A side repository left by a killed sync an hour ago is removed by a later one.
    const abandoned = join(b.dir, '.git', 'gastown', 'side', 's-killed');
    mkdirSync(join(abandoned, 'objects'), { recursive: true });
    utimesSync(abandoned, new Date(Date.now() - 2 * 3600_000), new Date(Date.now() - 2 * 3600_000));
    // A local change is pushed without fetching anything.
    await b.ledger.transact((tx) => tx.put('beads', 'gt-f8', { ...bead(8), title: 'from b' }));
    const push = await traced();
    expect(push.result).toMatchObject({ pushed: 1 });
    expect(fetched(push.argvs)).toEqual([]);
    const after = await traced();
    expect(after.argvs).toEqual([]);
    expect(after.argvs.filter((v) => v.includes('push') || v.includes('ls-remote'))).toEqual([]);
    // The side repositories fetches and pushes ran in are gone, and so is the abandoned one;
    // the ones kept for the summaries' and a few named refs' fetches stay, unlocked.
    expect(readdirSync(join(b.dir, '.git', 'gastown', 'side')).sort()).toEqual(['kept-refs', 'kept-summaries']);
    // The refs a fetch brought into the kept repository are removed once read: it stays small.
    expect(git(b.dir, ['--git-dir', join(b.dir, '.git', 'gastown', 'side', 'kept-refs'), 'for-each-ref', 'refs/got/'])).toBe('');
  });

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
    await a.ledger.transact((tx) =>
      tx.put('beads', 'gt-s1s1', { ...base, title: 'Write the docs', labels: ['docs', 'a-label'], priority: 1 }),
    );
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
    await b.ledger.transact((tx) =>
      tx.put('convoys', 'cv-0001', { id: 'cv-0001', beads: ['gt-1', 'gt-3'], title: 'T', status: 'stopped' }),
    );
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

  test("a fast-forward reads only the commits one side lacks, not the ref's whole history (a feed chain grows for ever)", async () => {
    const { remote, a, b } = await twoClones();
    const ref = 'refs/gastown/feed/nux';
    const entry = (n: number) => ({ at: `2026-01-01T00:00:${String(n % 60).padStart(2, '0')}Z`, kind: 'note', text: `entry ${n}` });
    for (let n = 0; n < 200; n++) await a.ledger.transact((tx) => tx.append('feed', 'nux', entry(n)));
    await syncLedger(a.ledger, remote);
    await syncLedger(b.ledger, remote);
    const count = (ledger: Ledger) => {
      let reads = 0;
      const read = ledger.readCommit.bind(ledger);
      ledger.readCommit = ((...args: Parameters<Ledger['readCommit']>) => {
        reads++;
        return read(...args);
      }) as Ledger['readCommit'];
      return () => reads;
    };
    // b is behind by one entry: a fast-forward.
    await a.ledger.transact((tx) => tx.append('feed', 'nux', entry(200)));
    await syncLedger(a.ledger, remote);
    const readsB = count(b.ledger);
    expect((await syncLedger(b.ledger, remote, { full: true })).fastForwarded).toBe(1);
    expect(git(b.dir, ['rev-parse', ref])).toBe(git(a.dir, ['rev-parse', ref]));
    expect(readsB()).toBeLessThan(20);
    // a is ahead by one entry: a push.
    await a.ledger.transact((tx) => tx.append('feed', 'nux', entry(201)));
    const readsA = count(a.ledger);
    expect((await syncLedger(a.ledger, remote, { full: true })).pushed).toBe(1);
    expect(git(remote, ['rev-parse', ref])).toBe(git(a.dir, ['rev-parse', ref]));
    expect(readsA()).toBeLessThan(20);
  });

  test('an unreachable remote is a clear sync error', async () => {
    const { a } = await twoClones();
    await expect(syncLedger(a.ledger, '/nonexistent/remote.git')).rejects.toMatchObject({ code: 'gastown_sync' });
  });
});

describe('syncLedger: deletes, refusals, conflicts, bad values', () => {
  test('a delete travels as a tombstone: gone on both clones, kept on the remote as a tombstone, and stays gone', async () => {
    const { remote, a, b } = await twoClones();
    await a.ledger.transact((tx) => tx.put('heartbeats', 'nux', { agent: 'nux', at: 'x' }));
    await a.ledger.transact((tx) => tx.put('agents', 'nux', { name: 'nux' }));
    await syncLedger(a.ledger, remote);
    await syncLedger(b.ledger, remote);
    expect(await b.ledger.get('agents', 'nux')).not.toBeNull();

    a.clock.advance(5);
    await a.ledger.transact((tx) => {
      tx.delete('agents', 'nux');
      tx.delete('heartbeats', 'nux');
    });
    for (const side of [a, b, a, b]) await syncLedger(side.ledger, remote);

    for (const side of [a, b]) {
      expect(await side.ledger.get('agents', 'nux')).toBeNull();
      expect(await side.ledger.get('heartbeats', 'nux')).toBeNull();
      expect(await side.ledger.list('agents')).toEqual([]);
      expect(await side.ledger.getMany('agents', ['nux'])).toEqual([]);
    }
    const onRemote = git(remote, ['rev-parse', 'refs/gastown/agents/nux']);
    expect(onRemote).toBe(git(a.dir, ['rev-parse', 'refs/gastown/agents/nux']));
    expect(git(remote, ['log', '-1', '--format=%s', onRemote])).toBe('delete agents/nux');
    expect(git(remote, ['ls-tree', onRemote])).toBe(''); // no agent.json: absent for plain git too
    expect(await syncLedger(b.ledger, remote)).toMatchObject({ created: 0, fastForwarded: 0, merged: 0, pushed: 0 });

    // Written again later: a new version on top of the tombstone, which syncs like any edit.
    a.clock.advance(5);
    await a.ledger.transact(async (tx) => {
      expect(await tx.get('agents', 'nux')).toBeNull();
      tx.put('agents', 'nux', { name: 'nux', back: true });
    });
    await syncLedger(a.ledger, remote);
    await syncLedger(b.ledger, remote);
    expect((await b.ledger.get('agents', 'nux'))?.value).toEqual({ name: 'nux', back: true });
  });

  test('a delete against a concurrent edit: the delete wins on both clones, whatever the clocks say', async () => {
    const { remote, a, b } = await twoClones();
    await a.ledger.transact((tx) => tx.put('convoys', 'cv-del1', { id: 'cv-del1', title: 't' }));
    await syncLedger(a.ledger, remote);
    await syncLedger(b.ledger, remote);
    a.clock.advance(5);
    b.clock.advance(50); // the edit is later
    await a.ledger.transact((tx) => tx.delete('convoys', 'cv-del1'));
    await b.ledger.transact((tx) => tx.put('convoys', 'cv-del1', { id: 'cv-del1', title: 'edited' }));

    for (const side of [a, b, a]) await syncLedger(side.ledger, remote);

    expect(await a.ledger.get('convoys', 'cv-del1')).toBeNull();
    expect(await b.ledger.get('convoys', 'cv-del1')).toBeNull();
    const tip = git(a.dir, ['rev-parse', 'refs/gastown/convoys/cv-del1']);
    expect(git(b.dir, ['rev-parse', 'refs/gastown/convoys/cv-del1'])).toBe(tip);
    expect(git(a.dir, ['log', '-1', '--format=%s', tip])).toMatch(/^merge convoys\/cv-del1: deleted; dropped a concurrent edit/);
  });

  test('a side that deleted and wrote the entity anew wins over a concurrent delete; a later heartbeat wins over an earlier delete', async () => {
    const { remote, a, b } = await twoClones();
    await a.ledger.transact((tx) => {
      tx.put('agents', 'rex', { name: 'rex', v: 1 });
      tx.put('heartbeats', 'rex', { agent: 'rex', at: 'a0' });
    });
    await syncLedger(a.ledger, remote);
    await syncLedger(b.ledger, remote);
    a.clock.advance(5);
    b.clock.advance(10);
    await a.ledger.transact((tx) => {
      tx.delete('agents', 'rex');
      tx.delete('heartbeats', 'rex');
    });
    const tomb = git(a.dir, ['rev-parse', 'refs/gastown/agents/rex']);
    await a.ledger.transact((tx) => tx.delete('agents', 'rex')); // deleting twice writes nothing
    expect(git(a.dir, ['rev-parse', 'refs/gastown/agents/rex'])).toBe(tomb);
    await a.ledger.transact((tx) => tx.put('agents', 'rex', { name: 'rex', v: 2 }));
    await b.ledger.transact((tx) => {
      tx.delete('agents', 'rex'); // later than A's delete and re-creation
      tx.put('heartbeats', 'rex', { agent: 'rex', at: 'b1' });
    });

    for (const side of [a, b, a]) await syncLedger(side.ledger, remote);

    expect(git(a.dir, ['log', '-1', '--format=%s', 'refs/gastown/agents/rex'])).toBe(
      'merge agents/rex: re-created after a delete; kept the new version',
    );
    for (const side of [a, b]) {
      expect((await side.ledger.get('agents', 'rex'))?.value).toEqual({ name: 'rex', v: 2 });
      expect((await side.ledger.get('heartbeats', 'rex'))?.value).toEqual({ agent: 'rex', at: 'b1' });
    }
  });

  test("a push refused by a remote hook reports the hook's words at once, without retrying", async () => {
    const { remote, a } = await twoClones();
    const count = join(remote, 'hook-runs');
    const hook = join(remote, 'hooks', 'pre-receive');
    writeFileSync(hook, `#!/bin/sh\necho run >> "${count}"\necho "policy: no ledger pushes" >&2\nexit 1\n`);
    chmodSync(hook, 0o755);
    await a.ledger.transact((tx) => tx.put('beads', 'gt-h1h1', { title: 'x' }));

    const err = (await syncLedger(a.ledger, remote).then(
      () => new Error('sync did not fail'),
      (e: unknown) => e,
    )) as Error & { code: string };

    expect(err).toMatchObject({ code: 'gastown_sync' });
    expect(err.message).toContain('policy: no ledger pushes');
    expect(err.message).toContain('pre-receive hook declined');
    expect(err.message).not.toMatch(/keeps moving/);
    expect(readFileSync(count, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  test("a true conflict keeps the later edit and the merge commit names the dropped value (the bead's trail shows it)", async () => {
    const { remote, a, b } = await twoClones();
    const base = { id: 'gt-c1c1', title: 'Write docs', priority: 2 };
    await a.ledger.transact((tx) => tx.put('beads', 'gt-c1c1', base));
    await syncLedger(a.ledger, remote);
    await syncLedger(b.ledger, remote);
    a.clock.advance(10);
    b.clock.advance(20);
    await a.ledger.transact((tx) => tx.put('beads', 'gt-c1c1', { ...base, title: 'Write the user guide' }), { actor: 'ada' });
    await b.ledger.transact((tx) => tx.put('beads', 'gt-c1c1', { ...base, title: 'Write API docs' }), { actor: 'bob' });

    await syncLedger(a.ledger, remote);
    await syncLedger(b.ledger, remote);
    await syncLedger(a.ledger, remote);

    expect((await a.ledger.get('beads', 'gt-c1c1'))!.value).toEqual({ ...base, title: 'Write API docs' });
    for (const side of [a, b]) {
      const [merge] = await side.ledger.history('beads', 'gt-c1c1');
      expect(merge!.summary).toBe('merge beads/gt-c1c1: kept title from bob (later edit); dropped title "Write the user guide" from ada');
    }
  });

  test('a value that fails its check is neither pushed nor taken; the last good value stays', async () => {
    const noBadTitles: EntityValidator = (v) => ((v as { title?: string }).title === 'BAD' ? 'title must not be BAD' : null);
    const { remote, a, b } = await twoClones({ beads: noBadTitles });
    await a.ledger.transact((tx) => tx.put('beads', 'gt-v1v1', { title: 'good' }));
    await syncLedger(a.ledger, remote);
    await syncLedger(b.ledger, remote);

    // A writes a bad value (the ledger does not check writes here): sync will not push it.
    await a.ledger.transact((tx) => tx.put('beads', 'gt-v1v1', { title: 'BAD' }));
    await a.ledger.transact((tx) => tx.put('beads', 'gt-v2v2', { title: 'BAD' }));
    const ra = await syncLedger(a.ledger, remote);
    expect(ra.refused.map((r) => r.ref).sort()).toEqual(['refs/gastown/beads/gt-v1v1', 'refs/gastown/beads/gt-v2v2']);
    expect(ra.refused[0]!.problem).toMatch(/title must not be BAD/);
    expect(git(remote, ['for-each-ref', '--format=%(refname)', 'refs/gastown/beads/'])).toBe('refs/gastown/beads/gt-v1v1');

    // The bad value reaches the remote some other way: B does not take it.
    git(a.dir, [
      'push',
      '-q',
      remote,
      'refs/gastown/beads/gt-v1v1:refs/gastown/beads/gt-v1v1',
      'refs/gastown/beads/gt-v2v2:refs/gastown/beads/gt-v2v2',
    ]);
    // (A push that moves no writer's summary is seen by the full comparison: see "plain git push" below.)
    const rb = await syncLedger(b.ledger, remote, { full: true });
    expect(rb.refused.map((r) => r.ref).sort()).toEqual(['refs/gastown/beads/gt-v1v1', 'refs/gastown/beads/gt-v2v2']);
    expect((await b.ledger.get('beads', 'gt-v1v1'))!.value).toEqual({ title: 'good' });
    expect(await b.ledger.get('beads', 'gt-v2v2')).toBeNull();
    expect(rb).toMatchObject({ created: 0, fastForwarded: 0 });
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

  test('reports each true conflict with the kept and the dropped value, the same from either side', () => {
    const base = { title: 'a', n: { p: 1 }, same: 1 };
    const ours = { title: 'b', n: { p: 2 }, same: 2 };
    const theirs = { title: 'c', n: { p: 3 }, same: 1 };
    const one: MergeConflict[] = [];
    const two: MergeConflict[] = [];

    mergeValues(base, ours, theirs, true, one);
    mergeValues(base, theirs, ours, false, two);

    expect(one).toEqual([
      { path: 'title', kept: 'b', dropped: 'c' },
      { path: 'n.p', kept: 2, dropped: 3 },
    ]);
    expect(two).toEqual(one);
  });
});
