import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RigSettings } from '../../src/rig/rig-settings.js';
import { git, tempDir } from '../helpers/temp-repo.js';
import { gtx } from './run-gt-lazy.js';
import './town-fixture.js'; // the product's git processes run without a developer's config

const SEED = ['-c', 'user.name=Seeder', '-c', 'user.email=seeder@test.local'];
import { GREETINGS_GOAL } from './greetings-goal.js';
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A bare remote whose default branch is `branch`, with one seed commit pushed from a throwaway repository. */
function remoteOn(branch: string): { root: string; remote: string } {
  const dir = tempDir('first-install');
  cleanups.push(dir.cleanup);
  const remote = join(dir.path, 'remote.git');
  const seed = join(dir.path, 'seed');
  git(dir.path, ['init', '-q', '--bare', '-b', branch, remote]);
  git(dir.path, ['init', '-q', '-b', branch, seed]);
  writeFileSync(join(seed, 'README.md'), '# project\n');
  git(seed, ['add', '-A']);
  git(seed, [...SEED, 'commit', '-q', '-m', 'seed']);
  git(seed, ['push', '-q', remote, branch]);
  return { root: dir.path, remote };
}

const GOAL = GREETINGS_GOAL;

describe('a repository whose default branch is master', () => {
  it('gt init finds master and origin; polecats and the Refinery land the work on master', async () => {
    const { root, remote } = remoteOn('master');
    const clone = join(root, 'rig');
    git(root, ['clone', '-q', remote, clone]);
    writeFileSync(join(root, 'goal.md'), GOAL);

    const init = await gtx(clone, ['init', '--json']);
    const planned = await gtx(clone, ['sling', '--goal-file', '../goal.md']);
    const ran = await gtx(clone, ['runner', '--until-idle', '--concurrency', '2']);
    const doctor = await gtx(clone, ['doctor', '--json']);

    expect(init.stderr).toBe('');
    expect(JSON.parse(init.stdout)).toMatchObject({ remote: 'origin', defaultBranch: 'master' });
    expect(planned.code).toBe(0);
    expect(ran.stdout).toMatch(/merged 2, landed 1, sent back 0, failed 0/);
    expect(git(remote, ['show', 'master:world.txt'])).toBe('world');
    expect(git(remote, ['branch', '--list', 'main'])).toBe('');
    expect(JSON.parse(doctor.stdout)).toContainEqual({ name: 'default branch', ok: true, detail: 'master' });
  });

  it('asks the remote when the clone does not know its HEAD (origin added by hand)', async () => {
    const { root, remote } = remoteOn('master');
    const repo = join(root, 'by-hand');
    git(root, ['init', '-q', '-b', 'trunk', repo]);
    git(repo, ['remote', 'add', 'origin', remote]);

    const init = await gtx(repo, ['init', '--json']);

    expect(JSON.parse(init.stdout)).toMatchObject({ remote: 'origin', defaultBranch: 'master' });
  });

  it('gt doctor says when the recorded default branch is not on the remote', async () => {
    const { root, remote } = remoteOn('master');
    const clone = join(root, 'rig');
    git(root, ['clone', '-q', remote, clone]);
    await gtx(clone, ['init', '--default-branch', 'main']);

    const doctor = await gtx(clone, ['doctor', '--json']);

    expect(doctor.code).toBe(1);
    expect(JSON.parse(doctor.stdout)).toContainEqual({
      name: 'default branch',
      ok: false,
      detail: 'origin has no branch main: the default is master (gt init --default-branch master)',
    });
  });
});

describe("a teammate's clone of a rig", () => {
  it('works with gt sync at once: origin by default, the ledger fetched, settings recorded', async () => {
    const { root, remote } = remoteOn('main');
    const mine = join(root, 'mine');
    const theirs = join(root, 'theirs');
    git(root, ['clone', '-q', remote, mine]);
    await gtx(mine, ['init']);
    const bead = JSON.parse((await gtx(mine, ['bead', 'create', 'Shared work', '--json'])).stdout) as { id: string };
    expect((await gtx(mine, ['sync'])).code).toBe(0);
    git(root, ['clone', '-q', remote, theirs]);

    const before = await gtx(theirs, ['status']);
    const synced = await gtx(theirs, ['sync']);
    const status = await gtx(theirs, ['status', '--json']);
    const shown = await gtx(theirs, ['bead', 'show', bead.id, '--json']);

    expect(before.code).toBe(1);
    expect(before.stderr.trim()).toBe(
      "gt: this clone is not a rig yet: `gt sync` fetches the ledger from origin and records the rig's settings (`gt init` starts a new rig)",
    );
    expect(synced.code).toBe(0);
    expect(synced.stdout).toMatch(/^synced: \d+ new/);
    expect(JSON.parse(status.stdout)).toMatchObject({ beads: { total: 1 } });
    expect(JSON.parse(shown.stdout)).toMatchObject({ bead: { id: bead.id, title: 'Shared work' } });
    const settings = JSON.parse(readFileSync(join(theirs, '.git', 'gastown', 'rig.json'), 'utf8')) as RigSettings;
    expect(settings).toMatchObject({ remote: 'origin', defaultBranch: 'main', prefix: 'refs/gastown/' });
  });

  it('a repository without origin is still told to run gt init', async () => {
    const { root } = remoteOn('main');
    const lonely = join(root, 'lonely');
    git(root, ['init', '-q', '-b', 'main', lonely]);

    const status = await gtx(lonely, ['status']);
    const synced = await gtx(lonely, ['sync']);

    expect(status.stderr).toMatch(/not a rig yet: run `gt init` first/);
    expect(synced.stderr).toMatch(/not a rig yet: run `gt init` first/);
    expect(existsSync(join(lonely, '.git', 'gastown', 'rig.json'))).toBe(false);
  });
});
