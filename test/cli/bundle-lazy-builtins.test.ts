import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { ensureBuiltCli, ROOT } from '../helpers/built-dist.js';
import { initRepo, tempDir, TEST_GIT_ENV } from '../helpers/temp-repo.js';

const run = promisify(execFile);
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
beforeAll(async () => {
  await ensureBuiltCli();
}, 120_000);

const HEAVY = ['crypto', 'zlib', 'fs/promises', 'child_process'];

/** Runs the bundled CLI (what bin/gt runs) and says which of the HEAVY built-ins the process loaded. */
async function gtLoading(cwd: string, args: string[]): Promise<{ stdout: string; loaded: string[] }> {
  const probe = join(cwd, '..', 'probe.cjs');
  writeFileSync(
    probe,
    `process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify(process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13))) + '\\n'));\n`,
  );
  const { stdout, stderr } = await run(process.execPath, ['--require', probe, join(ROOT, 'bin', 'gt.cjs'), ...args], {
    cwd,
    env: { ...TEST_GIT_ENV, GT_ACTOR: 'tester', XDG_CACHE_HOME: join(cwd, '..', 'cache') },
  });
  const line = stderr.split('\n').find((l) => l.startsWith('LOADED '))!;
  const all = JSON.parse(line.slice('LOADED '.length)) as string[];
  return { stdout, loaded: HEAVY.filter((m) => all.includes(m)) };
}

describe('the CLI bundle loads heavy built-ins on first use', () => {
  test('gt --version loads none of them; commands that need them still get them', async () => {
    const root = tempDir('lazy-builtins');
    cleanups.push(root.cleanup);
    const dir = join(root.path, 'rig');
    mkdirSync(dir);
    initRepo(dir);
    expect((await gtLoading(dir, ['--version'])).loaded).toEqual([]);
    await gtLoading(dir, ['init']);
    // Writes objects (zlib's deflate) and reads them back (inflate).
    const created = await gtLoading(dir, ['bead', 'create', 'First', '--json']);
    const id = (JSON.parse(created.stdout) as { id: string }).id;
    expect(created.loaded).toContain('zlib');
    expect(JSON.parse((await gtLoading(dir, ['bead', 'show', id, '--json'])).stdout).bead).toMatchObject({ id, title: 'First' });
    // A goal's source key is a SHA-256 from node:crypto, loaded when the sling asks for it.
    writeFileSync(join(dir, 'goal.md'), '# Two things\n- [ ] One\n- [ ] Two\n');
    const slung = await gtLoading(dir, ['sling', '--goal-file', 'goal.md', '--json']);
    expect(slung.loaded).toContain('crypto');
    expect((JSON.parse(slung.stdout) as { convoy: { id: string } }).convoy.id).toMatch(/^cv-/);
  }, 60_000);
});
