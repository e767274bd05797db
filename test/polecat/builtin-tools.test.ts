import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBuiltinTool, type ToolRunContext } from '../../src/polecat/agents/builtin-tools.js';
import { pickPassThrough } from '../../src/polecat/agents/agent-env.js';

let root: string;
let ctx: ToolRunContext;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gastown-tools-'));
  const worktree = path.join(root, 'wt');
  await mkdir(path.join(worktree, 'src/deep'), { recursive: true });
  await mkdir(path.join(worktree, '.git'));
  await writeFile(path.join(worktree, '.git/config'), 'needle in git\n');
  await writeFile(path.join(worktree, 'src/a.ts'), 'export const a = 1;\n// needle here\n');
  await writeFile(path.join(worktree, 'src/deep/b.ts'), 'const b = "needle";\nconst c = 2;\n');
  await writeFile(path.join(worktree, 'bin.dat'), Buffer.from([0, 1, 2, 110, 101, 101, 100, 108, 101]));
  ctx = { worktree, env: pickPassThrough(process.env), commandTimeoutMs: 300, outputCapBytes: 64, signal: new AbortController().signal };
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
    await writeFile(path.join(ctx.worktree, 'big.txt'), 'x'.repeat(500));

    const out = await runBuiltinTool('read_file', { path: 'big.txt' }, ctx);

    expect(out.content).toBe(`${'x'.repeat(64)}\n[truncated at 64 bytes]`);
  });

  it('edit_file refuses an old_string that matches more than once, leaving the file as it was', async () => {
    const out = await runBuiltinTool('edit_file', { path: 'src/deep/b.ts', old_string: 'const', new_string: 'let' }, ctx);

    expect(out).toMatchObject({ isError: true, wrote: false });
    expect(out.content).toContain('occurs 2 times');
    expect(await readFile(path.join(ctx.worktree, 'src/deep/b.ts'), 'utf8')).toBe('const b = "needle";\nconst c = 2;\n');
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

  it('refuses reading through a symlink that leaves the worktree', async () => {
    await writeFile(path.join(root, 'secret.txt'), 'secret\n');
    await symlink(path.join(root, 'secret.txt'), path.join(ctx.worktree, 'innocent.txt'));

    const out = await runBuiltinTool('read_file', { path: 'innocent.txt' }, ctx);

    expect(out).toMatchObject({ isError: true });
    expect(out.content).not.toContain('secret\n');
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
