import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isGastownError } from '../../src/errors.js';
import { checkpoint, pushPolecatBranch, type CheckpointOptions } from '../../src/polecat/checkpoint.js';
import type { PolecatWorkspace } from '../../src/polecat/workspace.js';
import { sandboxFor } from './agent-context.js';
import { git, gitOk, makeRig, NUX, type Rig } from './git-fixture.js';
import { nuxWorkspace } from './polecat-workspace.js';

let rig: Rig;
let ws: PolecatWorkspace;
beforeEach(async () => {
  rig = await makeRig();
  ws = await nuxWorkspace(rig);
});
afterEach(async () => {
  delete process.env.GITHUB_TOKEN;
  await rig.cleanup();
});

async function checkpointNow(message: string, known = [ws.start]) {
  const { sandbox, spec } = await sandboxFor(rig, ws);
  const opts: CheckpointOptions = {
    sandbox,
    spec,
    rigDir: rig.clone,
    branch: ws.branch,
    known,
    message,
    identity: NUX,
    trailers: { 'Gastown-Bead': 'gt-abcd', 'Gastown-Polecat': 'nux' },
    scratchDir: ws.dir,
  };
  return checkpoint(opts);
}
const rigBranch = async () => (await git(rig.clone, ['rev-parse', '--verify', '--quiet', `refs/heads/${ws.branch}`])).stdout.trim();

describe('checkpoint', () => {
  it('commits new, changed and deleted files in the sandbox and collects the commit into the rig', async () => {
    await writeFile(path.join(ws.path, 'new.txt'), 'new\n');
    await writeFile(path.join(ws.path, 'README.md'), 'changed\n');
    await writeFile(path.join(ws.path, 'gone.txt'), 'x\n');
    await gitOk(ws.path, ['add', 'gone.txt']);
    await gitOk(ws.path, ['commit', '--quiet', '-m', 'the agent commits too']);
    await rm(path.join(ws.path, 'gone.txt'));

    const result = await checkpointNow('mixed');

    expect(result.collected).toBe(true);
    expect(result.tip).toBe(await gitOk(ws.path, ['rev-parse', 'HEAD']));
    expect(await rigBranch()).toBe(result.tip);
    expect(await gitOk(rig.clone, ['log', '--format=%s|%an <%ae>', `${ws.start}..${result.tip}`])).toBe(
      `mixed|${NUX.name} <${NUX.email}>\nthe agent commits too|${NUX.name} <${NUX.email}>`,
    );
    expect(await gitOk(rig.clone, ['log', '-1', '--format=%(trailers:only,unfold)', result.tip])).toBe(
      'Gastown-Bead: gt-abcd\nGastown-Polecat: nux',
    );
    const files = await gitOk(rig.clone, ['show', '--name-status', '--format=', result.tip]);
    expect(files.split('\n').sort()).toEqual(['A\tnew.txt', 'D\tgone.txt', 'M\tREADME.md']);
    expect(await gitOk(ws.path, ['status', '--porcelain'])).toBe('');
  });

  it('collects nothing when nothing changed', async () => {
    const first = await checkpointNow('nothing');

    expect(first).toEqual({ tip: ws.start, collected: false });
    expect(await rigBranch()).toBe('');
  });

  it('runs none of the hooks, fsmonitor or signing program the agent configured, and no secret reaches a commit', async () => {
    process.env.GITHUB_TOKEN = 'ghs_checkpointKnownSecret0001';
    // Hooks would leave their mark in the polecat's HOME, which the sandbox lets them write.
    const marks = ws.home;
    const hook = `#!/bin/sh\necho "$0" >> ${marks}/ran; cat /proc/$PPID/environ >> ${marks}/ran 2>/dev/null; env >> hook-env.txt\n`;
    for (const dir of [path.join(ws.path, '.evil-hooks'), path.join(ws.path, '.git', 'hooks')]) {
      await mkdir(dir, { recursive: true });
      for (const name of ['pre-commit', 'commit-msg', 'post-commit', 'prepare-commit-msg']) {
        await writeFile(path.join(dir, name), hook);
        await chmod(path.join(dir, name), 0o755);
      }
    }
    await gitOk(ws.path, ['config', 'core.hooksPath', '.evil-hooks']);
    await gitOk(ws.path, ['config', 'core.fsmonitor', `echo fsmonitor >> ${marks}/ran`]);
    await gitOk(ws.path, ['config', 'commit.gpgSign', 'true']);
    await gitOk(ws.path, ['config', 'gpg.program', `${path.join(ws.path, '.evil-hooks', 'pre-commit')}`]);
    // A clean filter does run (git add runs it), but in the sandbox, where there is no secret to find.
    await gitOk(ws.path, ['config', 'filter.leak.clean', 'sh -c "env; cat /proc/$PPID/environ 2>/dev/null; cat"']);
    await writeFile(path.join(ws.path, '.gitattributes'), '*.txt filter=leak\n');
    await writeFile(path.join(ws.path, 'work.txt'), 'work\n');

    const result = await checkpointNow('work');

    expect(result.collected).toBe(true);
    expect(existsSync(path.join(marks, 'ran'))).toBe(false);
    const objects = execFileSync('git', ['-C', rig.clone, 'cat-file', '--batch-all-objects', '--batch'], {
      maxBuffer: 64 * 1024 * 1024,
    }).toString('latin1');
    expect(objects).toContain('GASTOWN_POLECAT=nux');
    expect(objects).not.toContain('ghs_checkpointKnownSecret0001');
  });

  it("refuses commits git fsck rejects (a tree holding .git), leaving the rig's branch alone", async () => {
    const blob = (await gitOk(ws.path, ['hash-object', '-w', '--stdin'], '[core]\n\thooksPath = /tmp\n')).trim();
    const inner = await gitOk(ws.path, ['mktree'], `100644 blob ${blob}\tconfig\n`);
    const tree = await gitOk(ws.path, ['mktree'], `040000 tree ${inner}\t.git\n`);
    const commit = await gitOk(ws.path, ['-c', 'user.name=x', '-c', 'user.email=x@x', 'commit-tree', tree, '-p', 'HEAD', '-m', 'evil']);
    await gitOk(ws.path, ['update-ref', 'HEAD', commit]);

    const err = await checkpointNow('evil').catch((e: unknown) => e);

    expect(isGastownError(err, 'gastown_git'), String(err)).toBe(true);
    expect((err as Error).message).toContain('index-pack --strict');
    expect(await rigBranch()).toBe('');
    expect((await git(rig.clone, ['cat-file', '-e', commit])).code).not.toBe(0);
  });
});

describe('pushPolecatBranch', () => {
  it('pushes the polecat branch and refuses anything else', async () => {
    await writeFile(path.join(ws.path, 'x.txt'), 'x\n');
    const { tip } = await checkpointNow('x');
    const mainBefore = await gitOk(rig.remote, ['rev-parse', 'main']);

    await pushPolecatBranch(rig.clone, 'origin', ws.branch);
    const refused = await Promise.all(
      ['main', 'polecat/nux', 'polecat/nux/gt-abcd:refs/heads/main', 'polecat/../main'].map((b) =>
        pushPolecatBranch(rig.clone, 'origin', b).catch((e: unknown) => e),
      ),
    );

    expect(await gitOk(rig.remote, ['rev-parse', `refs/heads/${ws.branch}`])).toBe(tip);
    for (const err of refused) expect(isGastownError(err, 'gastown_forbidden'), String(err)).toBe(true);
    expect(await gitOk(rig.remote, ['rev-parse', 'main'])).toBe(mainBefore);
  });
});
