import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, expect, test } from 'vitest';
import { ensureBuiltCli, ROOT } from '../helpers/built-dist.js';
import { git, repoWithRemote, tempDir, TEST_GIT_ENV } from '../helpers/temp-repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
beforeAll(async () => {
  await ensureBuiltCli();
}, 120_000);

/** Runs bin/gt.cjs as `gt` does; says which bundle files of dist/bundle it read. */
async function gt(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string; bundles: string[] }> {
  const probe = join(cwd, '..', 'probe.cjs');
  writeFileSync(
    probe,
    [
      "const fs = require('node:fs');",
      'const read = fs.readFileSync;',
      'const seen = new Set();',
      "fs.readFileSync = function (p, ...rest) { if (typeof p === 'string' && /dist[\\\\/]bundle[\\\\/][^\\\\/]+\\.cjs$/.test(p)) seen.add(p.split(/[\\\\/]/).pop()); return read.call(this, p, ...rest); };",
      "process.on('exit', () => process.stderr.write('BUNDLES ' + JSON.stringify([...seen]) + '\\n'));",
      '',
    ].join('\n'),
  );
  const env = { ...TEST_GIT_ENV, GT_ACTOR: 'tester', XDG_CACHE_HOME: join(cwd, '..', 'cache') };
  const done = await promisify(execFile)(process.execPath, ['--require', probe, join(ROOT, 'bin', 'gt.cjs'), ...args], { cwd, env }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
  const line = done.stderr.split('\n').find((l) => l.startsWith('BUNDLES '))!;
  const stderr = done.stderr
    .split('\n')
    .filter((l) => !l.startsWith('BUNDLES ') && !l.startsWith('checking '))
    .join('\n');
  return { code: done.code, stdout: done.stdout, stderr, bundles: JSON.parse(line.slice('BUNDLES '.length)) };
}

test('gt sync runs from a bundle of its own, with the same behaviour as the whole CLI', async () => {
  const root = tempDir('sync-bundle');
  cleanups.push(root.cleanup);
  const { remote, clone } = repoWithRemote(root.path);
  const other = join(root.path, 'other');
  git(root.path, ['clone', '-q', remote, other]);
  expect((await gt(clone, ['init'])).code).toBe(0);
  const created = await gt(clone, ['bead', 'create', 'From the rig', '--json']);
  expect(created.bundles).toEqual(['gt.cjs']);
  const synced = await gt(clone, ['sync']);
  expect(synced).toMatchObject({ code: 0, bundles: ['gt-sync.cjs'] });
  expect(synced.stdout).toMatch(/^synced: 0 new, 0 fast-forwarded, 0 merged, 2 pushed/); // the bead and its feed entry
  // A teammate's clone: its first sync records the rig's settings and takes the bead.
  const first = await gt(other, ['sync', '--json']);
  expect(first).toMatchObject({ code: 0, bundles: ['gt-sync.cjs'] });
  expect(JSON.parse(first.stdout)).toMatchObject({ created: 2, pushed: 0 });
  expect(JSON.parse((await gt(other, ['bead', 'show', JSON.parse(created.stdout).id, '--json'])).stdout).bead.title).toBe('From the rig');
  // Usage errors and failures: the same one line and exit code as through the whole CLI.
  for (const args of [
    ['sync', '--bogus'],
    ['sync', '--remote'],
  ]) {
    const alone = await gt(clone, args);
    const whole = await gt(clone, ['--json', ...args]); // (a leading option: the whole CLI's bundle)
    expect(whole.bundles).toEqual(['gt.cjs']);
    expect(alone.bundles).toEqual(['gt-sync.cjs']);
    expect([alone.code, alone.stderr]).toEqual([whole.code, whole.stderr]);
    expect(alone.code).toBe(2);
  }
  const notARepo = join(root.path, 'plain');
  git(root.path, ['init', '-q', notARepo]);
  const failed = await gt(notARepo, ['sync']);
  expect(failed.bundles).toEqual(['gt-sync.cjs']);
  expect(failed.code).toBe(1);
  expect(failed.stderr.trim()).toMatch(/^gt: /);
}, 60_000);
