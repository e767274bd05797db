import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** git for tests: never the developer's own settings, always an explicit identity. */
export const TEST_GIT_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.test',
  GIT_COMMITTER_NAME: 'Test Committer',
  GIT_COMMITTER_EMAIL: 'committer@example.test',
};

export function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, env: TEST_GIT_ENV, encoding: 'utf8' }).trim();
}

export function tempDir(label = 'gastown'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), `${label}-`));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** A fresh repository with one commit on main. */
export function initRepo(dir: string): string {
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['commit', '-q', '--allow-empty', '-m', 'root']);
  return dir;
}

/** A bare remote plus a clone of it, both with one commit on main. */
export function repoWithRemote(root: string, name = 'rig'): { remote: string; clone: string } {
  const remote = join(root, `${name}-remote.git`);
  const seed = join(root, `${name}-seed`);
  git(root, ['init', '-q', '--bare', '-b', 'main', remote]);
  git(root, ['init', '-q', '-b', 'main', seed]);
  git(seed, ['commit', '-q', '--allow-empty', '-m', 'root']);
  git(seed, ['push', '-q', remote, 'main']);
  const clone = join(root, name);
  git(root, ['clone', '-q', remote, clone]);
  return { remote, clone };
}
