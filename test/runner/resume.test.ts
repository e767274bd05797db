import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createScriptAgent } from '../../src/polecat/agents/script-agent.js';
import { runRunner } from '../../src/polecat/runner/run-runner.js';
import { getBead } from '../../src/rig/beads.js';
import { readFeed } from '../../src/rig/feed.js';
import { inbox } from '../../src/rig/mail.js';
import { git } from '../helpers/temp-repo.js';
import { makeTown, scriptBead, type Town } from './town-fixture.js';

let town: Town | undefined;
let signals: string | undefined;
afterEach(() => {
  town?.cleanup();
  if (signals) rmSync(signals, { recursive: true, force: true });
  signals = undefined;
});

const worker = fileURLToPath(new URL('./workers/runner-child.ts', import.meta.url));

async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('a runner killed mid-bead', () => {
  it('loses the bead after the lease; another runner takes it over and resumes from the pushed branch', async () => {
    // The flag lives where every sandbox can read it (read-only); the sleeping step marks its
    // polecat's HOME, which the test can see from outside.
    signals = mkdtempSync(join(tmpdir(), 'gastown-signals-'));
    town = await makeTown({ heartbeatMs: 200, leaseMs: 1_500, sandbox: { env: [], network: false, readOnly: [signals] } });
    const flag = join(signals, 'killed-once');
    const bead = await scriptBead(town.rig, 'Three steps', [
      'echo one > one.txt',
      // First run: hang (the test kills the runner here, and its sandbox dies with it). After the kill: go on.
      `if [ ! -f ${flag} ]; then touch "$HOME/sleeping"; exec sleep 30; fi\necho two > two.txt`,
      'echo three > three.txt',
    ]);
    const workspaces = join(town.clone, '.git', 'gastown', 'workspaces');
    const sleeping = () =>
      existsSync(workspaces) && readdirSync(workspaces).some((w) => existsSync(join(workspaces, w, 'home', 'sleeping')));

    const child = spawn(process.execPath, ['--import', 'tsx', worker, town.clone, 'doomed'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: process.env,
    });
    let childErr = '';
    child.stderr.on('data', (d) => (childErr += d));
    await until(sleeping);
    const pushed = git(town.remote, ['for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads/polecat/']);
    expect(pushed).toMatch(new RegExp(`refs/heads/polecat/[a-z]+/${bead.id} `));
    const firstRunCommit = pushed.split(' ')[1]!;
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
    writeFileSync(flag, '');
    expect(childErr).toBe('');
    const held = await getBead(town.rig, bead.id);
    expect(held.status).toBe('in_progress');

    // Another runner: nothing is claimable until the dead runner's lease runs out, then it takes over.
    const started = Date.now();
    const summary = await runRunner({
      rig: town.rig,
      agentFactory: () => createScriptAgent(),
      runnerId: 'rescuer',
      untilIdle: true,
      pollMs: 50,
    });

    expect(Date.now() - started).toBeGreaterThan(500);
    expect(summary.outcomes).toEqual([{ bead: bead.id, polecat: held.assignee, outcome: 'in_review' }]);
    expect(summary.merged).toEqual([bead.id]);
    const done = await getBead(town.rig, bead.id);
    expect(done.status).toBe('closed');
    expect(done.attempts).toBe(2);
    // The first run's checkpoint is still in the merged history (rebased onto main: same change, same author).
    git(town.clone, ['fetch', '-q', 'origin']);
    const history = git(town.clone, ['log', '--format=%s', 'origin/main']);
    expect(history.split('\n').filter((s) => s.includes('echo one > one.txt'))).toHaveLength(1);
    // (The merged branch itself is gone, nuked after the merge: main holds the rebased commit, with the author and date the dead runner's had.)
    expect(git(town.clone, ['log', '--format=%an %aI', '--grep', 'echo one > one.txt', 'origin/main'])).toBe(
      git(town.clone, ['log', '-1', '--format=%an %aI', firstRunCommit]),
    );
    for (const f of ['one.txt', 'two.txt', 'three.txt']) expect(git(town.clone, ['show', `origin/main:${f}`])).not.toBe('');
    // Never two polecats on one bead: one assignee throughout, one takeover in the feed; the one branch was nuked once merged.
    expect(git(town.remote, ['for-each-ref', '--format=%(refname)', 'refs/heads/polecat/'])).toBe('');
    const feed = await readFeed(town.rig);
    expect(feed.filter((e) => e.type === 'stalled' && e.bead === bead.id).map((e) => e.message)).toEqual([
      expect.stringContaining('rescuer took over'),
    ]);
  });
});

describe('a polecat that tries to push to main', () => {
  it('has no remote to push to (its workspace is its own clone); the bead fails and main is untouched', async () => {
    town = await makeTown({ retryCap: 0 });
    const bead = await scriptBead(town.rig, 'Sneaky', ['echo x > x.txt', 'git push origin HEAD:refs/heads/main']);
    const mainBefore = git(town.remote, ['rev-parse', 'main']);

    const summary = await runRunner({ rig: town.rig, agentFactory: () => createScriptAgent(), untilIdle: true, pollMs: 50 });

    expect(summary.failed).toEqual([bead.id]);
    expect((await getBead(town.rig, bead.id)).status).toBe('failed');
    expect(git(town.remote, ['rev-parse', 'main'])).toBe(mainBefore);
    const mail = (await inbox(town.rig, 'mayor')).find((m) => m.type === 'BEAD_FAILED')!;
    expect(mail.body).toContain("fatal: 'origin' does not appear to be a git repository");
  });
});
