import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isGastownError } from '../../src/errors.js';
import { checkpoint } from '../../src/polecat/checkpoint.js';
import { createPolecatWorktree, removePolecatWorktree } from '../../src/polecat/worktree.js';
import { git, gitOk, HOOKS_DIR, makeRig, NUX, type Rig } from './git-fixture.js';

let rig: Rig;
beforeEach(async () => {
  rig = await makeRig();
});
afterEach(async () => {
  await rig.cleanup();
});

function create(extra: Partial<Parameters<typeof createPolecatWorktree>[0]> = {}) {
  return createPolecatWorktree({
    repoDir: rig.clone,
    worktreeRoot: rig.worktreeRoot,
    polecat: 'nux',
    beadId: 'gt-abcd',
    baseRef: 'origin/main',
    identity: NUX,
    hooksDir: HOOKS_DIR,
    ...extra,
  });
}

describe('createPolecatWorktree', () => {
  it('checks out polecat/<name>/<bead> at <root>/<name>-<bead> with worktree-scoped settings', async () => {
    const wt = await create();

    expect(wt.branch).toBe('polecat/nux/gt-abcd');
    expect(wt.path).toBe(path.join(rig.worktreeRoot, 'nux-gt-abcd'));
    expect(await gitOk(wt.path, ['rev-parse', '--abbrev-ref', 'HEAD'])).toBe('polecat/nux/gt-abcd');
    expect(await gitOk(wt.path, ['rev-parse', 'HEAD'])).toBe(await gitOk(rig.clone, ['rev-parse', 'origin/main']));
    expect(await gitOk(wt.path, ['config', '--worktree', 'gastown.polecat'])).toBe('nux');
    expect(await gitOk(wt.path, ['config', '--worktree', 'gastown.bead'])).toBe('gt-abcd');
    expect(await gitOk(wt.path, ['config', '--worktree', 'gastown.branch'])).toBe('polecat/nux/gt-abcd');
    // No upstream: a bare `git push` must never aim at origin/main.
    expect((await git(wt.path, ['rev-parse', '--abbrev-ref', '@{upstream}'])).code).not.toBe(0);
  });

  it('sets core.hooksPath for the polecat worktree only, not for the main clone', async () => {
    const wt = await create();

    expect(await gitOk(wt.path, ['config', 'core.hooksPath'])).toBe(HOOKS_DIR);
    expect((await git(rig.clone, ['config', 'core.hooksPath'])).code).toBe(1);
  });

  it('commits as the polecat identity although the machine has no git identity', async () => {
    const wt = await create();
    await writeFile(path.join(wt.path, 'work.txt'), 'done\n');

    const noAmbient = await git(rig.clone, ['config', 'user.name']);
    const result = await checkpoint({ worktree: wt.path, message: 'work' });

    expect(noAmbient.code).toBe(1);
    expect(result.committed).toBe(true);
    const who = await gitOk(wt.path, ['log', '-1', '--format=%an <%ae>|%cn <%ce>']);
    expect(who).toBe(`${NUX.name} <${NUX.email}>|${NUX.name} <${NUX.email}>`);
    // The main clone is untouched by the worktree's identity.
    expect((await git(rig.clone, ['config', 'user.email'])).code).toBe(1);
  });

  it('is idempotent: a second call returns the same worktree and keeps work in progress', async () => {
    const first = await create();
    await writeFile(path.join(first.path, 'wip.txt'), 'half done\n');

    const second = await create();

    expect(second).toEqual(first);
    expect(await readFile(path.join(second.path, 'wip.txt'), 'utf8')).toBe('half done\n');
    const list = await gitOk(rig.clone, ['worktree', 'list', '--porcelain']);
    expect(list.split('\n').filter((l) => l.startsWith('worktree ')).length).toBe(2);
  });

  it('prunes a stale registration whose directory vanished and re-creates the worktree on the same branch', async () => {
    const first = await create();
    await writeFile(path.join(first.path, 'kept.txt'), 'committed\n');
    const { sha } = await checkpoint({ worktree: first.path, message: 'keep' });
    await rm(first.path, { recursive: true, force: true });

    const again = await create();

    expect(existsSync(again.path)).toBe(true);
    expect(await gitOk(again.path, ['rev-parse', 'HEAD'])).toBe(sha);
    expect(await readFile(path.join(again.path, 'kept.txt'), 'utf8')).toBe('committed\n');
  });

  it('resumes from an existing remote branch in another clone', async () => {
    const first = await create();
    await writeFile(path.join(first.path, 'step1.txt'), 'one\n');
    const pushed = await checkpoint({ worktree: first.path, message: 'step 1', push: { remote: 'origin', branch: first.branch } });
    const otherClone = path.join(rig.root, 'other-clone');
    await gitOk(rig.root, ['clone', '--quiet', rig.remote, otherClone]);

    const resumed = await createPolecatWorktree({
      repoDir: otherClone,
      worktreeRoot: path.join(rig.root, 'other-worktrees'),
      polecat: 'nux',
      beadId: 'gt-abcd',
      baseRef: 'origin/main',
      resumeFrom: 'origin/polecat/nux/gt-abcd',
      identity: NUX,
      hooksDir: HOOKS_DIR,
    });

    expect(pushed.committed).toBe(true);
    expect(await gitOk(resumed.path, ['rev-parse', 'HEAD'])).toBe(pushed.sha);
    expect(await readFile(path.join(resumed.path, 'step1.txt'), 'utf8')).toBe('one\n');
    expect(await gitOk(resumed.path, ['rev-parse', '--abbrev-ref', 'HEAD'])).toBe('polecat/nux/gt-abcd');
  });

  it('fast-forwards a local branch that is behind resumeFrom', async () => {
    const first = await create();
    await removePolecatWorktree(rig.clone, first.path);
    // Someone else pushed a checkpoint of this bead from another machine.
    const otherClone = path.join(rig.root, 'other-clone');
    await gitOk(rig.root, ['clone', '--quiet', rig.remote, otherClone]);
    const other = await createPolecatWorktree({
      repoDir: otherClone,
      worktreeRoot: path.join(rig.root, 'other-worktrees'),
      polecat: 'nux',
      beadId: 'gt-abcd',
      baseRef: 'origin/main',
      identity: NUX,
      hooksDir: HOOKS_DIR,
    });
    await writeFile(path.join(other.path, 'remote.txt'), 'from elsewhere\n');
    const pushed = await checkpoint({ worktree: other.path, message: 'elsewhere', push: { remote: 'origin', branch: other.branch } });
    await gitOk(rig.clone, ['fetch', '--quiet', 'origin']);

    const resumed = await create({ resumeFrom: 'origin/polecat/nux/gt-abcd' });

    expect(await gitOk(resumed.path, ['rev-parse', 'HEAD'])).toBe(pushed.sha);
  });

  it('works from a bare clone, which stays bare while its worktrees stay work trees', async () => {
    const bareClone = path.join(rig.root, 'bare-clone.git');
    await gitOk(rig.root, ['clone', '--quiet', '--bare', rig.remote, bareClone]);

    const wt = await createPolecatWorktree({
      repoDir: bareClone,
      worktreeRoot: rig.worktreeRoot,
      polecat: 'nux',
      beadId: 'gt-abcd',
      baseRef: 'main',
      identity: NUX,
      hooksDir: HOOKS_DIR,
    });
    await writeFile(path.join(wt.path, 'work.txt'), 'x\n');
    const result = await checkpoint({ worktree: wt.path, message: 'from bare' });

    expect(result.committed).toBe(true);
    expect(await gitOk(bareClone, ['rev-parse', '--is-bare-repository'])).toBe('true');
    expect(await gitOk(wt.path, ['rev-parse', '--is-bare-repository'])).toBe('false');
    expect(await gitOk(bareClone, ['rev-parse', 'refs/heads/polecat/nux/gt-abcd'])).toBe(result.sha);
  });

  it('refuses names that are not safe in branch and directory names', async () => {
    const err = await create({ polecat: '../evil' }).catch((e: unknown) => e);

    expect(isGastownError(err, 'gastown_bad_input')).toBe(true);
  });

  it('fails with gastown_git when the start point does not exist', async () => {
    const err = await create({ baseRef: 'origin/nope' }).catch((e: unknown) => e);

    expect(isGastownError(err, 'gastown_git')).toBe(true);
    expect(existsSync(path.join(rig.worktreeRoot, 'nux-gt-abcd'))).toBe(false);
  });
});

describe('removePolecatWorktree', () => {
  it('removes the worktree, keeps the branch, and is idempotent', async () => {
    const wt = await create();
    await writeFile(path.join(wt.path, 'dirty.txt'), 'x\n');

    await removePolecatWorktree(rig.clone, wt.path);
    await removePolecatWorktree(rig.clone, wt.path);

    expect(existsSync(wt.path)).toBe(false);
    expect(await gitOk(rig.clone, ['worktree', 'list', '--porcelain'])).not.toContain('nux-gt-abcd');
    expect((await git(rig.clone, ['rev-parse', '--verify', 'refs/heads/polecat/nux/gt-abcd'])).code).toBe(0);
  });
});
