import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Isolate every git process (ours and the product's, which inherit this environment) from the
// developer's own settings: no global or system config means no ambient identity, so a test
// that commits only passes when the product pins the identity itself.
process.env.GIT_CONFIG_GLOBAL = '/dev/null';
process.env.GIT_CONFIG_NOSYSTEM = '1';
for (const key of ['GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL', 'EMAIL']) {
  delete process.env[key];
}

export const HOOKS_DIR = fileURLToPath(new URL('../../hooks', import.meta.url));

export const SEED_IDENTITY = ['-c', 'user.name=Seeder', '-c', 'user.email=seeder@test.local'];

export interface GitOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs git and resolves with its outcome whatever the exit code. */
export function git(cwd: string, args: string[], opts: { input?: string } = {}): Promise<GitOutcome> {
  return new Promise((resolve) => {
    const child = execFile('git', ['-C', cwd, ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Like git() but throws on a non-zero exit; returns trimmed stdout. */
export async function gitOk(cwd: string, args: string[], input?: string): Promise<string> {
  const out = await git(cwd, args, { input });
  if (out.code !== 0) throw new Error(`git ${args.join(' ')} failed (${out.code}): ${out.stderr}`);
  return out.stdout.trim();
}

export interface Rig {
  root: string;
  /** Bare repository standing in for GitHub. */
  remote: string;
  /** The runner's clone. */
  clone: string;
  workspaceRoot: string;
  cleanup(): Promise<void>;
}

/** A bare remote with one commit on main, and a clone of it, in a fresh temp directory. */
export async function makeRig(): Promise<Rig> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'gastown-polecat-'));
  const remote = path.join(root, 'remote.git');
  const clone = path.join(root, 'clone');
  await gitOk(root, ['init', '--quiet', '--bare', '-b', 'main', remote]);
  await gitOk(root, ['clone', '--quiet', remote, clone]);
  await writeFile(path.join(clone, 'README.md'), '# rig\n');
  await gitOk(clone, ['add', '-A']);
  await gitOk(clone, [...SEED_IDENTITY, 'commit', '--quiet', '-m', 'seed']);
  await gitOk(clone, ['push', '--quiet', 'origin', 'HEAD:refs/heads/main']);
  await gitOk(clone, ['fetch', '--quiet', 'origin']);
  return {
    root,
    remote,
    clone,
    workspaceRoot: path.join(root, 'workspaces'),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

export const NUX = { name: 'Nux (polecat)', email: 'nux@polecats.gastown.local' };
