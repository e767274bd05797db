import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isGastownError } from '../../src/errors.js';
import { createWorkspace, removeWorkspace } from '../../src/polecat/workspace.js';
import { git, gitOk, HOOKS_DIR, makeRig, NUX, SEED_IDENTITY, type Rig } from './git-fixture.js';

let rig: Rig;
beforeEach(async () => {
  rig = await makeRig();
});
afterEach(async () => {
  await rig.cleanup();
});

function create(extra: Partial<Parameters<typeof createWorkspace>[0]> = {}) {
  return createWorkspace({
    repoDir: rig.clone,
    root: rig.workspaceRoot,
    polecat: 'nux',
    beadId: 'gt-abcd',
    startRef: 'refs/remotes/origin/main',
    identity: NUX,
    hooksDir: HOOKS_DIR,
    ...extra,
  });
}

describe('createWorkspace', () => {
  it('clones the start point into <root>/<name>-<bead>/repo on polecat/<name>/<bead>, with its settings and a private home', async () => {
    const ws = await create();

    expect(ws.dir).toBe(path.join(rig.workspaceRoot, 'nux-gt-abcd'));
    expect(ws.path).toBe(path.join(ws.dir, 'repo'));
    expect(existsSync(ws.home)).toBe(true);
    expect(ws.branch).toBe('polecat/nux/gt-abcd');
    expect(await gitOk(ws.path, ['rev-parse', '--abbrev-ref', 'HEAD'])).toBe('polecat/nux/gt-abcd');
    expect(ws.start).toBe(await gitOk(rig.clone, ['rev-parse', 'origin/main']));
    expect(await gitOk(ws.path, ['rev-parse', 'HEAD'])).toBe(ws.start);
    expect(await readFile(path.join(ws.path, 'README.md'), 'utf8')).toBe('# rig\n');
    expect(await gitOk(ws.path, ['config', 'gastown.branch'])).toBe('polecat/nux/gt-abcd');
    expect(await gitOk(ws.path, ['config', 'core.hooksPath'])).toBe(HOOKS_DIR);
    // Its own repository: not a worktree of the rig, no remote, no upstream for a bare `git push`.
    expect(await gitOk(ws.path, ['rev-parse', '--git-common-dir'])).toBe('.git');
    expect(await gitOk(ws.path, ['remote'])).toBe('');
    expect((await git(ws.path, ['rev-parse', '--abbrev-ref', '@{upstream}'])).code).not.toBe(0);
  });

  it('writes settings git reads back exactly, quotes and backslashes included', async () => {
    const tricky = { name: 'Nux "the" \\ polecat; [core]', email: 'nux@x' };

    const ws = await create({ identity: tricky });

    expect(await gitOk(ws.path, ['config', 'user.name'])).toBe(tricky.name);
    expect(await gitOk(ws.path, ['config', 'gastown.bead'])).toBe('gt-abcd');
    expect(await gitOk(ws.path, ['config', '--get-all', 'core.hooksPath'])).toBe(HOOKS_DIR);
  });

  it("holds only the start point's history: no ledger refs, no other branches, no other objects", async () => {
    await gitOk(rig.clone, ['update-ref', 'refs/gastown/beads/gt-1', 'HEAD']);
    await gitOk(rig.clone, ['checkout', '--quiet', '-b', 'secret-work']);
    await writeFile(path.join(rig.clone, 'private.txt'), 'not pushed\n');
    await gitOk(rig.clone, ['add', '-A']);
    await gitOk(rig.clone, [...SEED_IDENTITY, 'commit', '--quiet', '-m', 'private']);
    const privateCommit = await gitOk(rig.clone, ['rev-parse', 'HEAD']);
    await gitOk(rig.clone, ['update-ref', 'refs/heads/polecat/slit/gt-beef', privateCommit]);

    const ws = await create();

    expect((await gitOk(ws.path, ['for-each-ref', '--format=%(refname)'])).split('\n')).toEqual(['refs/heads/polecat/nux/gt-abcd']);
    expect((await git(ws.path, ['cat-file', '-e', privateCommit])).code).not.toBe(0);
    expect(existsSync(path.join(ws.path, '.git', 'objects', 'info', 'alternates'))).toBe(false);
  });

  it('carries no credential of the rig: not its extraheader, credential helper or a token in a URL', async () => {
    await gitOk(rig.clone, ['config', 'http.https://github.com/.extraheader', 'AUTHORIZATION: basic c2VjcmV0LXRva2Vu']);
    await gitOk(rig.clone, ['config', 'credential.helper', 'store --file=/root/.git-credentials']);
    await gitOk(rig.clone, ['remote', 'add', 'upstream', 'https://x-access-token:ghs_secret@github.com/o/r.git']);

    const ws = await create();

    const config = await readFile(path.join(ws.path, '.git', 'config'), 'utf8');
    const all = await gitOk(ws.path, ['config', '--list']);
    for (const text of [config, all]) {
      expect(text).not.toMatch(/extraheader|credential|ghs_secret|c2VjcmV0/);
      expect(text).not.toContain('github.com');
    }
  });

  it("starts fresh each time: a dead runner's uncommitted files are gone", async () => {
    const first = await create();
    await writeFile(path.join(first.path, 'half-done.txt'), 'x\n');

    const second = await create();

    expect(second.path).toBe(first.path);
    expect(existsSync(path.join(second.path, 'half-done.txt'))).toBe(false);
  });

  it('resumes from a pushed polecat branch fetched into another clone', async () => {
    await gitOk(rig.clone, ['checkout', '--quiet', '-b', 'polecat/nux/gt-abcd']);
    await writeFile(path.join(rig.clone, 'step1.txt'), 'one\n');
    await gitOk(rig.clone, ['add', '-A']);
    await gitOk(rig.clone, [...SEED_IDENTITY, 'commit', '--quiet', '-m', 'step 1']);
    await gitOk(rig.clone, ['push', '--quiet', 'origin', 'polecat/nux/gt-abcd']);
    const pushed = await gitOk(rig.clone, ['rev-parse', 'HEAD']);
    const other = path.join(rig.root, 'other-clone');
    await gitOk(rig.root, ['clone', '--quiet', rig.remote, other]);

    const ws = await create({
      repoDir: other,
      root: path.join(rig.root, 'other-workspaces'),
      startRef: 'refs/remotes/origin/polecat/nux/gt-abcd',
    });

    expect(ws.start).toBe(pushed);
    expect(await readFile(path.join(ws.path, 'step1.txt'), 'utf8')).toBe('one\n');
  });

  it('works from a bare clone of the rig', async () => {
    const bare = path.join(rig.root, 'bare-clone.git');
    await gitOk(rig.root, ['clone', '--quiet', '--bare', rig.remote, bare]);

    const ws = await create({ repoDir: bare, startRef: 'refs/heads/main' });

    expect(await gitOk(ws.path, ['rev-parse', 'HEAD'])).toBe(await gitOk(bare, ['rev-parse', 'main']));
    expect(await gitOk(bare, ['rev-parse', '--is-bare-repository'])).toBe('true');
  });

  it('refuses names that are not safe in branch and directory names', async () => {
    const err = await create({ polecat: '../evil' }).catch((e: unknown) => e);

    expect(isGastownError(err, 'gastown_bad_input')).toBe(true);
  });

  it('fails with gastown_git when the start point does not exist, leaving nothing behind', async () => {
    const err = await create({ startRef: 'refs/remotes/origin/nope' }).catch((e: unknown) => e);

    expect(isGastownError(err, 'gastown_git')).toBe(true);
    expect(existsSync(path.join(rig.workspaceRoot, 'nux-gt-abcd'))).toBe(false);
  });

  it('removeWorkspace removes it all and is idempotent', async () => {
    const ws = await create();

    await removeWorkspace(ws.dir);
    await removeWorkspace(ws.dir);

    expect(existsSync(ws.dir)).toBe(false);
  });
});
