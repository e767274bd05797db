import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBuiltinTool, type ToolRunContext } from '../../src/polecat/agents/builtin-tools.js';
import { requireSandbox } from '../../src/polecat/sandbox/detect-sandbox.js';
import { runInSandbox } from '../../src/polecat/sandbox/sandbox.js';
import { sandboxEnv } from '../../src/polecat/sandbox/sandbox-env.js';

let root: string;
let ctx: ToolRunContext;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gastown-tools-'));
  const workspace = path.join(root, 'ws');
  const home = path.join(root, 'home');
  await mkdir(home);
  await mkdir(path.join(workspace, 'src/deep'), { recursive: true });
  await mkdir(path.join(workspace, '.git'));
  await writeFile(path.join(workspace, '.git/config'), 'needle in git\n');
  await writeFile(path.join(workspace, 'src/a.ts'), 'export const a = 1;\n// needle here\n');
  await writeFile(path.join(workspace, 'src/deep/b.ts'), 'const b = "needle";\nconst c = 2;\n');
  await writeFile(path.join(workspace, 'bin.dat'), Buffer.from([0, 1, 2, 110, 101, 101, 100, 108, 101]));
  const sandbox = await requireSandbox();
  const spec = { workspace, home, env: sandboxEnv({ source: process.env, allow: [], home }), network: false, readOnly: [], hide: [] };
  ctx = { workspace, exec: (argv, o) => runInSandbox(sandbox, spec, argv, o), commandTimeoutMs: 300, outputCapBytes: 64 };
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('built-in tools', () => {
  it('list_files lists files recursively, skipping .git', async () => {
    const out = await runBuiltinTool('list_files', {}, ctx);

    expect(out).toMatchObject({ isError: false, wrote: false });
    expect(out.content.split('\n')).toEqual(['bin.dat', 'src/a.ts', 'src/deep/b.ts']);
  });

  it('search finds literal matches with path and line, skipping .git and binary files', async () => {
    const out = await runBuiltinTool('search', { query: 'needle' }, ctx);

    expect(out.content.split('\n')).toEqual(['src/a.ts:2: // needle here', 'src/deep/b.ts:1: const b = "needle";']);
  });

  it('read_file caps what it returns', async () => {
    await writeFile(path.join(ctx.workspace, 'big.txt'), 'x'.repeat(500));

    const out = await runBuiltinTool('read_file', { path: 'big.txt' }, ctx);

    expect(out.content).toBe(`${'x'.repeat(64)}\n[truncated at 64 bytes]`);
  });

  it('edit_file refuses an old_string that matches more than once, leaving the file as it was', async () => {
    const out = await runBuiltinTool('edit_file', { path: 'src/deep/b.ts', old_string: 'const', new_string: 'let' }, ctx);

    expect(out).toMatchObject({ isError: true, wrote: false });
    expect(out.content).toContain('occurs 2 times');
    expect(await readFile(path.join(ctx.workspace, 'src/deep/b.ts'), 'utf8')).toBe('const b = "needle";\nconst c = 2;\n');
  });

  it('refuses .git, and a missing file is a tool error rather than a crash', async () => {
    const git = await runBuiltinTool('write_file', { path: '.git/hooks/pre-push', content: 'exit 0' }, ctx);
    const missing = await runBuiltinTool('read_file', { path: 'nope.txt' }, ctx);
    const badInput = await runBuiltinTool('write_file', { path: 'x.txt' }, ctx);

    expect(git).toMatchObject({ isError: true });
    expect(git.content).toContain('inside .git');
    expect(missing).toMatchObject({ isError: true });
    expect(missing.content).toContain('ENOENT');
    expect(badInput).toMatchObject({ isError: true, content: 'input.content must be a string' });
  });

  it('refuses reading through a symlink that leaves the workspace', async () => {
    await writeFile(path.join(root, 'secret.txt'), 'secret\n');
    await symlink(path.join(root, 'secret.txt'), path.join(ctx.workspace, 'innocent.txt'));

    const out = await runBuiltinTool('read_file', { path: 'innocent.txt' }, ctx);

    expect(out).toMatchObject({ isError: true });
    expect(out.content).not.toContain('secret\n');
  });

  it('refuses writing through a symlink out of the workspace, dangling or not, and leaves the link alone', async () => {
    const outside = path.join(root, 'outside');
    await mkdir(outside);
    await symlink(path.join(outside, 'created-by-agent.txt'), path.join(ctx.workspace, 'dangling.txt'));
    await symlink(path.join(root, 'no-such-dir'), path.join(ctx.workspace, 'dangling-dir'));
    await symlink(outside, path.join(ctx.workspace, 'out-dir'));
    await writeFile(path.join(outside, 'existing.txt'), 'original\n');
    await symlink(path.join(outside, 'existing.txt'), path.join(ctx.workspace, 'existing-link.txt'));
    await symlink('.git/config', path.join(ctx.workspace, 'config-link'));

    const dangling = await runBuiltinTool('write_file', { path: 'dangling.txt', content: 'escaped\n' }, ctx);
    const danglingDir = await runBuiltinTool('write_file', { path: 'dangling-dir/x.txt', content: 'escaped\n' }, ctx);
    const throughDir = await runBuiltinTool('write_file', { path: 'out-dir/new/x.txt', content: 'escaped\n' }, ctx);
    const existing = await runBuiltinTool('write_file', { path: 'existing-link.txt', content: 'escaped\n' }, ctx);
    const edit = await runBuiltinTool('edit_file', { path: 'existing-link.txt', old_string: 'original', new_string: 'escaped' }, ctx);
    const intoGit = await runBuiltinTool('write_file', { path: 'config-link', content: '[core]\n\thooksPath = /tmp\n' }, ctx);

    for (const out of [dangling, danglingDir, throughDir, existing, edit, intoGit])
      expect(out).toMatchObject({ isError: true, wrote: false });
    expect(dangling.content).toContain('dangling symlink');
    expect(danglingDir.content).toContain('dangling symlink');
    expect(throughDir.content).toContain('outside the workspace');
    expect(intoGit.content).toContain('inside .git');
    expect(existsSync(path.join(outside, 'created-by-agent.txt'))).toBe(false);
    expect(existsSync(path.join(root, 'no-such-dir'))).toBe(false);
    expect(existsSync(path.join(outside, 'new'))).toBe(false);
    expect(await readFile(path.join(outside, 'existing.txt'), 'utf8')).toBe('original\n');
    expect(await readFile(path.join(ctx.workspace, '.git/config'), 'utf8')).toBe('needle in git\n');
    expect(await readlink(path.join(ctx.workspace, 'dangling.txt'))).toBe(path.join(outside, 'created-by-agent.txt'));
  });

  it('writes through a symlink that stays inside the workspace, and creates missing directories', async () => {
    await symlink('src/a.ts', path.join(ctx.workspace, 'a-link.ts'));

    const viaLink = await runBuiltinTool('write_file', { path: 'a-link.ts', content: 'export const a = 2;\n' }, ctx);
    const nested = await runBuiltinTool('write_file', { path: 'new/dir/c.ts', content: 'c\n' }, ctx);

    expect(viaLink).toMatchObject({ isError: false, wrote: true });
    expect(nested).toMatchObject({ isError: false, wrote: true });
    expect(await readFile(path.join(ctx.workspace, 'src/a.ts'), 'utf8')).toBe('export const a = 2;\n');
    expect(lstatSync(path.join(ctx.workspace, 'a-link.ts')).isSymbolicLink()).toBe(true);
    expect(await readFile(path.join(ctx.workspace, 'new/dir/c.ts'), 'utf8')).toBe('c\n');
  });

  it('refuses to read a FIFO the agent made (it would block the runner)', async () => {
    execFileSync('mkfifo', [path.join(ctx.workspace, 'pipe.txt')]);

    const out = await runBuiltinTool('read_file', { path: 'pipe.txt' }, ctx);

    expect(out).toMatchObject({ isError: true, content: 'pipe.txt is not a regular file' });
  });

  it('run_command runs in the sandbox: the workspace is writable, the rest of the machine is not there', async () => {
    await writeFile(path.join(root, 'beside.txt'), 'host file\n');

    const beside = path.join(root, 'beside.txt');
    const out = await runBuiltinTool(
      'run_command',
      { command: `echo made > made.txt; cat ${beside} || echo unseen; touch /usr/x || echo read-only` },
      { ...ctx, outputCapBytes: 1000 },
    );

    expect(out.content.split('\n')).toEqual([
      'exit code 0',
      `cat: ${beside}: No such file or directory`,
      'unseen',
      "touch: cannot touch '/usr/x': Read-only file system",
      'read-only',
      '',
    ]);
    expect(await readFile(path.join(ctx.workspace, 'made.txt'), 'utf8')).toBe('made\n');
  });

  it('run_command reports the exit code, caps output and times out', async () => {
    const fail = await runBuiltinTool('run_command', { command: 'echo oops; exit 4' }, ctx);
    const chatty = await runBuiltinTool('run_command', { command: 'seq 1 200' }, ctx);
    const slow = await runBuiltinTool('run_command', { command: 'sleep 30' }, ctx);

    expect(fail).toMatchObject({ isError: true, ranCommand: true, content: 'exit code 4\noops\n' });
    expect(chatty.content).toMatch(/^exit code 0\n\[\d+ earlier bytes cut\]\n/);
    expect(chatty.content.endsWith('199\n200\n')).toBe(true);
    expect(slow).toMatchObject({ isError: true });
    expect(slow.content).toContain('timed out after 300 ms');
  });
});
