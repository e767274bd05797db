import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PolecatWorkspace } from '../../src/polecat/workspace.js';
import { git, gitOk, HOOKS_DIR, makeRig, type Rig } from './git-fixture.js';
import { nuxWorkspace } from './polecat-workspace.js';

// The hooks guard what the agent does in its workspace itself: its own commits get trailers,
// and a push (only reachable at all with --no-sandbox, where the remote's path is in reach)
// is refused unless it goes to its own branch.
let rig: Rig;
let wt: PolecatWorkspace;
beforeEach(async () => {
  rig = await makeRig();
  wt = await nuxWorkspace(rig);
  await writeFile(path.join(wt.path, 'feature.txt'), 'feature\n');
  await gitOk(wt.path, ['add', '-A']);
  await gitOk(wt.path, ['commit', '--quiet', '-m', 'add feature']);
});
afterEach(async () => {
  await rig.cleanup();
});

const remoteRef = async (ref: string) => (await git(rig.remote, ['rev-parse', '--verify', '--quiet', ref])).stdout.trim();

describe('pre-push hook', () => {
  it('refuses a push to main, naming the ref, and main stays where it was', async () => {
    const before = await remoteRef('refs/heads/main');

    const push = await git(wt.path, ['push', rig.remote, 'HEAD:main']);

    expect(push.code).not.toBe(0);
    expect(push.stderr).toContain('gastown pre-push: refusing push to refs/heads/main');
    expect(await remoteRef('refs/heads/main')).toBe(before);
  });

  it("refuses a push to another polecat's branch", async () => {
    const push = await git(wt.path, ['push', rig.remote, 'HEAD:refs/heads/polecat/slit/gt-beef']);

    expect(push.code).not.toBe(0);
    expect(push.stderr).toContain('refs/heads/polecat/slit/gt-beef');
    expect(await remoteRef('refs/heads/polecat/slit/gt-beef')).toBe('');
  });

  it('refuses tags and deletions', async () => {
    await gitOk(wt.path, ['push', rig.remote, `HEAD:refs/heads/${wt.branch}`]);
    await gitOk(wt.path, ['tag', 'v1']);

    const tag = await git(wt.path, ['push', rig.remote, 'refs/tags/v1']);
    const del = await git(wt.path, ['push', rig.remote, `:refs/heads/${wt.branch}`]);

    expect(tag.code).not.toBe(0);
    expect(tag.stderr).toContain('refs/tags/v1');
    expect(del.code).not.toBe(0);
    expect(del.stderr).toContain(`refusing to delete refs/heads/${wt.branch}`);
    expect(await remoteRef(`refs/heads/${wt.branch}`)).toBe(await gitOk(wt.path, ['rev-parse', 'HEAD']));
  });

  it('refuses a push that mixes the own branch with main', async () => {
    const push = await git(wt.path, ['push', rig.remote, `HEAD:refs/heads/${wt.branch}`, 'HEAD:refs/heads/main']);

    expect(push.code).not.toBe(0);
    expect(await remoteRef(`refs/heads/${wt.branch}`)).toBe('');
  });

  it('allows a push to its own polecat branch', async () => {
    const push = await git(wt.path, ['push', rig.remote, `HEAD:refs/heads/${wt.branch}`]);

    expect(push.code).toBe(0);
    expect(await remoteRef(`refs/heads/${wt.branch}`)).toBe(await gitOk(wt.path, ['rev-parse', 'HEAD']));
  });

  it('refuses everything when gastown.branch is unset', async () => {
    await gitOk(wt.path, ['config', '--unset', 'gastown.branch']);

    const push = await git(wt.path, ['push', rig.remote, `HEAD:refs/heads/${wt.branch}`]);

    expect(push.code).not.toBe(0);
    expect(push.stderr).toContain('gastown.branch is not set');
  });
});

describe('commit-msg hook', () => {
  it('adds the bead and polecat trailers', async () => {
    const body = await gitOk(wt.path, ['log', '-1', '--format=%B']);

    expect(body).toBe('add feature\n\nGastown-Bead: gt-abcd\nGastown-Polecat: nux');
  });

  it('does not duplicate the trailers when the commit is amended', async () => {
    await gitOk(wt.path, ['commit', '--amend', '--no-edit', '--quiet']);
    await gitOk(wt.path, ['commit', '--amend', '--quiet', '-m', 'add feature, reworded\n\nGastown-Bead: gt-abcd']);

    const body = await gitOk(wt.path, ['log', '-1', '--format=%B']);

    expect(body.match(/Gastown-Bead: gt-abcd/g)).toHaveLength(1);
    expect(body.match(/Gastown-Polecat: nux/g)).toHaveLength(1);
    expect(body.startsWith('add feature, reworded')).toBe(true);
  });

  it('leaves commits alone outside a polecat workspace', async () => {
    await writeFile(path.join(rig.clone, 'plain.txt'), 'x\n');
    await gitOk(rig.clone, ['add', '-A']);
    await gitOk(rig.clone, [
      '-c',
      'user.name=P',
      '-c',
      'user.email=p@x',
      '-c',
      `core.hooksPath=${HOOKS_DIR}`,
      'commit',
      '--quiet',
      '-m',
      'plain',
    ]);

    expect(await gitOk(rig.clone, ['log', '-1', '--format=%B'])).toBe('plain');
  });
});
