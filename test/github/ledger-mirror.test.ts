import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_GIT_URL_TEMPLATE } from '../../src/config/env-config.js';
import { LedgerMirrors } from '../../src/github/ledger-mirror.js';
import type { RepoLedgerScope } from '../../src/github/ledger-mirror.js';
import { allBeads, createBead } from '../../src/rig/beads.js';
import { BAD_BEADS, writeRawEntity } from '../helpers/corrupt-entity.js';
import { git, tempDir } from '../helpers/temp-repo.js';
import { readRemote, runnerRig } from './ledger-e2e.helpers.js';
import { logGitCalls } from '../helpers/git-call-log.js';
import { serveGitHttp } from '../support/github-double/git-http-backend.js';
import { swapRemoteLease } from '../../src/ledger/remote-lease.js';
import type { Rig } from '../../src/rig/rig.js';

const TOKEN = 'ghs_SuperSecretToken123';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function bareRemote(path: string): string {
  mkdirSync(path, { recursive: true });
  execFileSync('git', ['init', '-q', '--bare', path]);
  return path;
}

describe('LedgerMirrors', () => {
  let dir: ReturnType<typeof tempDir>;
  let mirrors: LedgerMirrors;
  let logged: string;
  let scope: (repo: string, extra?: Partial<RepoLedgerScope>) => RepoLedgerScope;

  beforeEach(() => {
    dir = tempDir('gastown-mirror');
    logged = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        logged += String(chunk);
        done();
      },
    });
    const log = pino({ level: 'trace' }, sink);
    // The token is part of the remote's path here, so a sync can only work through the URL.
    mirrors = new LedgerMirrors({
      // Tests here write in the remote itself (a runner's rig on it, a raw corrupt entity),
      // which moves no writer's summary: every sync compares every ref.
      syncFullEveryMs: 0,
      dataDir: join(dir.path, 'data'),
      gitUrlTemplate: `file://${dir.path}/remotes/{token}/{owner}/{repo}.git`,
    });
    scope = (repo, extra = {}) => ({
      owner: 'acme',
      repo,
      prefix: 'refs/gastown/',
      actor: 'octocat',
      token: async () => TOKEN,
      log,
      ...extra,
    });
  });
  afterEach(async () => {
    await mirrors.close();
    dir.cleanup();
  });

  it('fills the default URL template with the encoded token, owner and repo', async () => {
    const github = new LedgerMirrors({ dataDir: dir.path, gitUrlTemplate: DEFAULT_GIT_URL_TEMPLATE });

    const url = await github.remoteUrl({ ...scope('widgets'), token: async () => 'ghs_a/b' });

    expect(url).toBe('https://x-access-token:ghs_a%2Fb@github.com/acme/widgets.git');
  });

  it('creates the bare mirror on first use and syncs with the token only in the URL: never in git config, files or logs', async () => {
    const remote = bareRemote(join(dir.path, 'remotes', TOKEN, 'acme', 'widgets.git'));

    const bead = await mirrors.withRepoLedger(scope('widgets'), ({ rig }) => createBead(rig, { title: 'Make widgets' }));

    const mirror = mirrors.pathFor('acme', 'widgets');
    expect(mirror).toBe(join(dir.path, 'data', 'acme', 'widgets.git'));
    expect(execFileSync('git', ['--git-dir', mirror, 'rev-parse', '--is-bare-repository'], { encoding: 'utf8' }).trim()).toBe('true');
    expect((await readRemote(remote)).beads.map((b) => b.id)).toEqual([bead.id]);
    for (const file of filesUnder(mirror)) expect(readFileSync(file).includes(TOKEN)).toBe(false);
    expect(logged).toContain('Synced the ledger');
    expect(logged).not.toContain(TOKEN);
  });

  it('runs one unit of work per repository at a time, and different repositories side by side', async () => {
    bareRemote(join(dir.path, 'remotes', TOKEN, 'acme', 'one.git'));
    bareRemote(join(dir.path, 'remotes', TOKEN, 'acme', 'two.git'));
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));

    const first = mirrors.withRepoLedger(scope('one'), async () => {
      events.push('one:first:start');
      await gate;
      events.push('one:first:end');
    });
    const second = mirrors.withRepoLedger(scope('one'), async () => {
      events.push('one:second');
    });
    const other = mirrors.withRepoLedger(scope('two'), async () => {
      events.push('two');
      release();
    });
    await Promise.all([first, second, other]);

    expect(events.indexOf('two')).toBeLessThan(events.indexOf('one:first:end'));
    expect(events.slice(events.indexOf('one:first:start')).filter((e) => e.startsWith('one'))).toEqual([
      'one:first:start',
      'one:first:end',
      'one:second',
    ]);
  });

  it('pushes what was written before a failure, rethrows it, and keeps serving the repository', async () => {
    const remote = bareRemote(join(dir.path, 'remotes', TOKEN, 'acme', 'widgets.git'));

    const failed = mirrors.withRepoLedger(scope('widgets'), async ({ rig }) => {
      await createBead(rig, { title: 'Recorded before the failure' });
      throw new Error('boom');
    });

    await expect(failed).rejects.toThrow('boom');
    expect((await readRemote(remote)).beads.map((b) => b.title)).toEqual(['Recorded before the failure']);
    await mirrors.withRepoLedger(scope('widgets'), ({ rig }) => createBead(rig, { title: 'Next' }));
    expect((await readRemote(remote)).beads).toHaveLength(2);
  });

  it('a visit that wrote nothing syncs once, before the work; one that wrote syncs after it too', async () => {
    const remote = bareRemote(join(dir.path, 'remotes', TOKEN, 'acme', 'widgets.git'));
    await mirrors.withRepoLedger(scope('widgets'), ({ rig }) => createBead(rig, { title: 'First' }));
    const syncs = () => logged.split('\n').filter((l) => l.includes('Synced the ledger')).length;

    const before = syncs();
    const read = await mirrors.withRepoLedger(scope('widgets'), async ({ rig }) => (await allBeads(rig)).map((b) => b.title));
    expect(read).toEqual(['First']);
    expect(syncs() - before).toBe(1);

    const wrote = syncs();
    await mirrors.withRepoLedger(scope('widgets'), ({ rig }) => createBead(rig, { title: 'Second' }));
    expect(syncs() - wrote).toBe(2);
    expect((await readRemote(remote)).beads.map((b) => b.title).sort()).toEqual(['First', 'Second']);
  });

  it('a corrupt bead on the remote is refused by sync (never enters the mirror) and named in the log; the other beads are served', async () => {
    const remote = bareRemote(join(dir.path, 'remotes', TOKEN, 'acme', 'widgets.git'));
    const bead = await mirrors.withRepoLedger(scope('widgets'), ({ rig }) => createBead(rig, { title: 'Good one' }));
    writeRawEntity(remote, 'refs/gastown/beads/gt-bad1', BAD_BEADS.badJson());

    const first = await mirrors.withRepoLedger(scope('widgets'), ({ rig }) => allBeads(rig));
    const second = await mirrors.withRepoLedger(scope('widgets'), ({ rig }) => allBeads(rig));

    expect(first.map((b) => b.id)).toEqual([bead.id]);
    expect(second.map((b) => b.id)).toEqual([bead.id]);
    const warnings = logged.split('\n').filter((line) => line.includes('do not validate'));
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40, refused: [{ ref: 'refs/gastown/beads/gt-bad1' }] });
    expect(git(mirrors.pathFor('acme', 'widgets'), ['for-each-ref', 'refs/gastown/beads/gt-bad1'])).toBe('');
  });

  it('work asked for while another unit runs sees what reached the remote before it was asked, syncing again only when no sync began after that', async () => {
    const remote = bareRemote(join(dir.path, 'remotes', TOKEN, 'acme', 'widgets.git'));
    await mirrors.withRepoLedger(scope('widgets'), ({ rig }) => createBead(rig, { title: 'First' }));
    const runner = await runnerRig(remote);
    const syncs = () => logged.split('\n').filter((l) => l.includes('Synced the ledger')).length;
    const titles = (rig: Rig) => allBeads(rig).then((beads) => beads.map((b) => b.title).sort());
    try {
      // 1. The first unit writes, so its last sync (after the work) begins after the second
      //    was asked for and brings the runner's bead: the second unit does not sync first.
      let release!: () => void;
      let started!: () => void;
      const running = new Promise<void>((r) => (started = r));
      const gate = new Promise<void>((r) => (release = r));
      const before = syncs();
      const writer = mirrors.withRepoLedger(scope('widgets'), async ({ rig }) => {
        started();
        await gate;
        await createBead(rig, { title: 'Second' });
      });
      await running;
      await createBead(runner, { title: 'From a runner' });
      const reader = mirrors.withRepoLedger(scope('widgets'), ({ rig }) => titles(rig));
      release();
      await writer;
      expect(await reader).toEqual(['First', 'From a runner', 'Second']);
      expect(syncs() - before).toBe(2);

      // 2. A first unit that writes nothing syncs only before its work, which began before
      //    the second was asked for: the second syncs and sees what came meanwhile.
      let release2!: () => void;
      let started2!: () => void;
      const running2 = new Promise<void>((r) => (started2 = r));
      const gate2 = new Promise<void>((r) => (release2 = r));
      const before2 = syncs();
      const idle = mirrors.withRepoLedger(scope('widgets'), async () => {
        started2();
        await gate2;
      });
      await running2;
      await createBead(runner, { title: 'Later' });
      const reader2 = mirrors.withRepoLedger(scope('widgets'), ({ rig }) => titles(rig));
      release2();
      await idle;
      expect(await reader2).toEqual(['First', 'From a runner', 'Later', 'Second']);
      expect(syncs() - before2).toBe(2);
    } finally {
      runner.close();
    }
  });

  it('a unit with work queued behind it leaves its push to that work: one push for both, on the remote before the last returns', async () => {
    const remote = bareRemote(join(dir.path, 'remotes', TOKEN, 'acme', 'widgets.git'));
    await mirrors.withRepoLedger(scope('widgets'), ({ rig }) => createBead(rig, { title: 'First' }));
    const calls = logGitCalls();
    try {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const first = mirrors.withRepoLedger(scope('widgets'), async ({ rig }) => {
        await gate;
        await createBead(rig, { title: 'Second' });
      });
      const second = mirrors.withRepoLedger(scope('widgets'), ({ rig }) => createBead(rig, { title: 'Third' }));
      calls.take();
      release();
      await first;
      await second;
      // The first unit's bead went with the second's push.
      expect((await readRemote(remote)).beads.map((b) => b.title).sort()).toEqual(['First', 'Second', 'Third']);
      const pushes = calls.take().filter((c) => / push /.test(` ${c} `) && !c.includes('gastown-leases'));
      expect(pushes).toHaveLength(1);
    } finally {
      calls.stop();
    }
  });

  it('keeps the repository lease for the next unit within leaseLingerMs, then gives it back; a read takes none', async () => {
    const remote = bareRemote(join(dir.path, 'remotes', TOKEN, 'acme', 'widgets.git'));
    const leaseOnRemote = () => git(remote, ['for-each-ref', '--format=%(refname)', 'refs/gastown-leases/']);
    const lingering = new LedgerMirrors({
      dataDir: join(dir.path, 'data-linger'),
      gitUrlTemplate: `file://${dir.path}/remotes/{token}/{owner}/{repo}.git`,
      leaseLingerMs: 400,
    });
    const calls = logGitCalls();
    try {
      await lingering.withRepoLedger(scope('widgets'), ({ rig }) => createBead(rig, { title: 'One' }));
      expect(leaseOnRemote()).toBe('refs/gastown-leases/app');
      await lingering.withRepoLedger(scope('widgets'), ({ rig }) => createBead(rig, { title: 'Two' }));
      const leasePushes = () => calls.take().filter((c) => /^push .*gastown-leases/.test(c)).length;
      // Taken once for both units, not given back between them.
      expect(leasePushes()).toBe(1);
      await new Promise((r) => setTimeout(r, 700));
      expect(leaseOnRemote()).toBe('');
      expect(leasePushes()).toBe(1);

      // Another replica holds the lease: a read runs at once, beside it; work under the lease waits.
      await swapRemoteLease({ gitDir: remote, url: async () => `file://${remote}`, ref: 'refs/gastown-leases/app' }, null, {
        holder: 'another replica',
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
      });
      calls.take();
      const read = await lingering.withRepoLedger(scope('widgets'), async ({ rig }) => (await allBeads(rig)).length, { lease: false });
      expect(read).toBe(2);
      expect(leasePushes()).toBe(0);
      const waiting = new LedgerMirrors({
        dataDir: join(dir.path, 'data-wait'),
        gitUrlTemplate: `file://${dir.path}/remotes/{token}/{owner}/{repo}.git`,
        leaseWaitMs: 200,
      });
      await expect(waiting.withRepoLedger(scope('widgets'), async () => 'ran')).rejects.toMatchObject({ code: 'gastown_locked' });
      await waiting.close();
    } finally {
      calls.stop();
      await lingering.close();
    }
  });

  it("a read does not wait behind work that waits for another replica's lease", async () => {
    const remote = bareRemote(join(dir.path, 'remotes', TOKEN, 'acme', 'widgets.git'));
    await mirrors.withRepoLedger(scope('widgets'), ({ rig }) => createBead(rig, { title: 'One' }));
    await mirrors.close();
    await swapRemoteLease({ gitDir: remote, url: async () => `file://${remote}`, ref: 'refs/gastown-leases/app' }, null, {
      holder: 'another replica',
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    const replica = new LedgerMirrors({
      dataDir: join(dir.path, 'data-replica'),
      gitUrlTemplate: `file://${dir.path}/remotes/{token}/{owner}/{repo}.git`,
      leaseWaitMs: 3000,
    });
    try {
      let settled = false;
      const leased = replica.withRepoLedger(scope('widgets'), async () => 'ran');
      void leased.then(
        () => (settled = true),
        () => (settled = true),
      );
      await new Promise((r) => setTimeout(r, 200));
      const read = await replica.withRepoLedger(scope('widgets'), async ({ rig }) => (await allBeads(rig)).length, { lease: false });
      expect(read).toBe(1);
      // Answered while the other work still waits for the lease.
      expect(settled).toBe(false);
      await expect(leased).rejects.toMatchObject({ code: 'gastown_locked' });
      // The queue is not left stuck: the next read runs as well.
      expect(await replica.withRepoLedger(scope('widgets'), async ({ rig }) => (await allBeads(rig)).length, { lease: false })).toBe(1);
    } finally {
      await replica.close();
    }
  });

  it('gives a kept lease back at close', async () => {
    const remote = bareRemote(join(dir.path, 'remotes', TOKEN, 'acme', 'widgets.git'));
    await mirrors.withRepoLedger(scope('widgets'), ({ rig }) => createBead(rig, { title: 'One' }));
    expect(git(remote, ['for-each-ref', '--format=%(refname)', 'refs/gastown-leases/'])).toBe('refs/gastown-leases/app');
    await mirrors.close();
    expect(git(remote, ['for-each-ref', '--format=%(refname)', 'refs/gastown-leases/'])).toBe('');
  });

  it('refuses names that could leave the data directory', () => {
    expect(() => mirrors.pathFor('..', 'x')).toThrow(/not a repository name/);
    expect(() => mirrors.pathFor('acme', 'a/b')).toThrow(/not a repository name/);
  });
});

describe('LedgerMirrors sync failures', () => {
  it('reports an unreachable remote as gastown_sync without the token, and runs nothing', async () => {
    const dir = tempDir('gastown-mirror');
    const mirrors = new LedgerMirrors({
      dataDir: join(dir.path, 'data'),
      gitUrlTemplate: `file://${dir.path}/missing/{token}/{owner}/{repo}.git`,
    });
    let ran = false;
    try {
      const run = mirrors.withRepoLedger(
        { owner: 'acme', repo: 'widgets', prefix: 'refs/gastown/', actor: 'octocat', token: async () => TOKEN },
        async () => {
          ran = true;
        },
      );

      const err = await run.then(
        () => null,
        (e: unknown) => e as Error & { code?: string },
      );

      expect(err?.code).toBe('gastown_sync');
      expect(err?.message).toContain('/missing/***/acme/widgets.git');
      expect(JSON.stringify({ message: err?.message, details: (err as { details?: unknown }).details })).not.toContain(TOKEN);
      expect(ran).toBe(false);
    } finally {
      await mirrors.close();
      dir.cleanup();
    }
  });
});

describe('LedgerMirrors over smart HTTP', () => {
  it('reads, pushes and leases in-process by default; GASTOWN_GIT_HTTP=git (inProcessHttp: false) runs git for each', async () => {
    const dir = tempDir('gastown-mirror-http');
    const remote = bareRemote(join(dir.path, 'srv', 'acme', 'widgets.git'));
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      void serveGitHttp({ projectRoot: join(dir.path, 'srv'), pathInfo: url.pathname, query: url.search.slice(1), user: null }, req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const calls = logGitCalls();
    const visit = async (name: string, inProcessHttp: boolean) => {
      const mirrors = new LedgerMirrors({
        dataDir: join(dir.path, name),
        gitUrlTemplate: `http://x-access-token:{token}@127.0.0.1:${port}/{owner}/{repo}.git`,
        inProcessHttp,
      });
      try {
        calls.take();
        await mirrors.withRepoLedger(
          { owner: 'acme', repo: 'widgets', prefix: 'refs/gastown/', actor: 'octocat', token: async () => TOKEN },
          ({ rig }) => createBead(rig, { title: `from ${name}` }),
        );
        return calls.take().filter((c) => /(^| )(fetch|push|ls-remote)( |$)/.test(c));
      } finally {
        await mirrors.close();
      }
    };
    try {
      expect(await visit('in-process', true)).toEqual([]);
      const viaGit = await visit('git', false);
      expect(viaGit.some((c) => / push /.test(` ${c} `))).toBe(true);
      expect(viaGit.some((c) => / fetch /.test(` ${c} `))).toBe(true);
      expect((await readRemote(remote)).beads.map((b) => b.title).sort()).toEqual(['from git', 'from in-process']);
    } finally {
      calls.stop();
      await new Promise<void>((r) => server.close(() => r()));
      dir.cleanup();
    }
  });
});
