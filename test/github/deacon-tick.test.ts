/**
 * The Deacon's timer (src/github/deacon-tick.ts) and what it relies on: ticks never overlap
 * and stop cleanly, one repository's failure is one log line and the others go on, a
 * repository without an active convoy is not visited, and a visit that finds another
 * replica's lease on a real remote gives up at once (LedgerMirrors' `waitForLease: false`).
 * The end-to-end runs on the GitHub double are in test/e2e/github-deacon-tick.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { GastownError } from '../../src/errors.js';
import { deaconTick, startDeaconTimer, type DeaconVisitResult } from '../../src/github/deacon-tick.js';
import type { KnownRepository } from '../../src/github/known-repositories.js';
import { LedgerMirrors } from '../../src/github/ledger-mirror.js';
import { swapRemoteLease } from '../../src/ledger/remote-lease.js';
import { tempDir } from '../helpers/temp-repo.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A real pino logger writing JSON lines into a string. */
function capturedLog() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const log = pino({ level: 'debug' }, sink);
  return { log, lines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` (a busy machine may run timers late); throws after 10 s. */
async function until(check: () => boolean): Promise<void> {
  const end = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(5);
  }
}

const repo = (name: string): KnownRepository => ({
  owner: 'acme',
  repo: name,
  installationId: 7,
  defaultBranch: 'main',
  prefix: 'refs/gastown/',
});

describe('startDeaconTimer', () => {
  it('never runs two ticks at once, even when a tick outlasts the period, and stop waits for the tick in progress', async () => {
    const { log } = capturedLog();
    let running = 0;
    let most = 0;
    let ticks = 0;
    let finished = 0;
    const timer = startDeaconTimer(
      20,
      async () => {
        running += 1;
        ticks += 1;
        most = Math.max(most, running);
        await sleep(60);
        running -= 1;
        finished += 1;
      },
      log,
    );
    await until(() => ticks >= 4);
    await timer.stop();
    const after = ticks;

    expect(ticks).toBeGreaterThanOrEqual(3);
    expect(most).toBe(1);
    expect(finished).toBe(ticks);
    await sleep(100);
    expect(ticks).toBe(after);
  });

  it('logs a failed tick in one line without its message, and keeps ticking', async () => {
    const { log, lines } = capturedLog();
    let ticks = 0;
    const timer = startDeaconTimer(
      10,
      async () => {
        ticks += 1;
        throw new Error('fatal: could not read from https://x-access-token:ghs_secret@example.com/a/b.git');
      },
      log,
    );
    await until(() => ticks >= 3);
    await timer.stop();

    const failed = lines().filter((l) => l.msg === 'Deacon tick failed');
    expect(failed.length).toBe(ticks);
    expect(JSON.stringify(failed)).not.toContain('ghs_secret');
    expect(failed[0]).toMatchObject({
      code: 'gastown_internal',
      message: 'An unexpected Error stopped the pass (its text is not logged).',
    });
  });
});

describe('deaconTick', () => {
  it('visits only repositories with an active convoy; a failure is logged and the next one is still visited; a held lease is skipped', async () => {
    const { log, lines } = capturedLog();
    const visited: string[] = [];
    const results: Record<string, () => Promise<DeaconVisitResult>> = {
      broken: async () => {
        throw Object.assign(new Error('Bad credentials'), { status: 401 });
      },
      held: async () => 'busy',
      fine: async () => 'done',
    };
    const out = await deaconTick({
      repositories: () => [repo('idle'), repo('broken'), repo('held'), repo('fine')],
      hasActiveConvoy: async (entry) => entry.repo !== 'idle',
      visit: async (entry) => {
        visited.push(entry.repo);
        return results[entry.repo]!();
      },
      log,
    });

    expect(visited).toEqual(['broken', 'held', 'fine']);
    expect(out).toEqual({ known: 4, active: 3, visited: 1, busy: 1, failed: 1 });
    const failure = lines().find((l) => l.msg === 'Deacon tick: the pass on a repository failed');
    expect(failure).toMatchObject({ repo: 'acme/broken', code: 'gastown_forge', message: 'A GitHub request failed (HTTP 401).' });
    expect(lines().find((l) => l.msg === 'Deacon tick')).toMatchObject({ level: 30, known: 4, visited: 1, failed: 1 });
  });

  it('a tick with nothing to do says so at debug level only', async () => {
    const { log, lines } = capturedLog();
    const out = await deaconTick({
      repositories: () => [repo('idle')],
      hasActiveConvoy: async () => false,
      visit: async () => {
        throw new Error('must not be visited');
      },
      log,
    });

    expect(out).toEqual({ known: 1, active: 0, visited: 0, busy: 0, failed: 0 });
    expect(lines().map((l) => [l.level, l.msg])).toEqual([[20, 'Deacon tick']]);
  });
});

describe("LedgerMirrors' waitForLease: false", () => {
  it("gives up at once with gastown_locked while another replica holds the repository's lease, and runs once it is free", async () => {
    const dir = tempDir('deacon-lease');
    cleanups.push(dir.cleanup);
    const remote = join(dir.path, 'remotes', 'acme', 'widgets.git');
    mkdirSync(remote, { recursive: true });
    execFileSync('git', ['init', '-q', '--bare', remote]);
    const mirrors = new LedgerMirrors({ dataDir: join(dir.path, 'data'), gitUrlTemplate: `file://${dir.path}/remotes/{owner}/{repo}.git` });
    cleanups.push(() => mirrors.close());
    const scope = { owner: 'acme', repo: 'widgets', prefix: 'refs/gastown/', actor: 'gastown[bot]', token: async () => '' };
    const target = { gitDir: remote, url: async () => `file://${remote}`, ref: 'refs/gastown-leases/app' };
    const held = await swapRemoteLease(target, null, { holder: 'another replica', expiresAt: new Date(Date.now() + 60_000).toISOString() });
    expect(held).toBeTruthy();

    let ran = 0;
    const started = Date.now();
    const err = await mirrors
      .withRepoLedger(scope, async () => void (ran += 1), { waitForLease: false })
      .then(
        () => null,
        (e: unknown) => e as GastownError,
      );

    // The default would wait ten lease times (10 minutes) for it.
    expect(err?.code).toBe('gastown_locked');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(ran).toBe(0);

    // Given back: the next visit takes it and runs.
    expect(await swapRemoteLease(target, held as string, null)).not.toBe(false);
    await mirrors.withRepoLedger(scope, async () => void (ran += 1), { waitForLease: false });
    expect(ran).toBe(1);
  });
});
