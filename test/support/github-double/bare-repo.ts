/**
 * The repository's code on the double: a bare git repository served over `file://`, with
 * default branch `main`. Reads (a file, the top-level tree) and the merge of a pull request
 * (`git merge-tree --write-tree`, a merge commit, a compare-and-swap ref update) are done
 * here with plain git, so what the app and the polecats push is what a merge merges.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Git never sees the developer's settings; commits made here name the double. */
export const DOUBLE_GIT_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'GitHub',
  GIT_AUTHOR_EMAIL: 'noreply@github.test',
  GIT_COMMITTER_NAME: 'GitHub',
  GIT_COMMITTER_EMAIL: 'noreply@github.test',
};

export interface TreeEntry {
  name: string;
  type: 'blob' | 'tree' | 'commit';
  mode: number;
}

export type MergeResult = { merged: true; sha: string } | { merged: false; reason: 'conflict' | 'base_moved' | 'no_branch' };

export class BareRepo {
  readonly path: string;
  readonly defaultBranch = 'main';

  constructor(path: string) {
    this.path = path;
  }

  /** A new bare repository whose `main` holds `files` in one commit. */
  static create(path: string, files: Record<string, string>): BareRepo {
    mkdirSync(path, { recursive: true });
    git(path, ['init', '--quiet', '--bare', '-b', 'main']);
    const seed = mkdtempSync(join(tmpdir(), 'double-seed-'));
    try {
      git(seed, ['init', '--quiet', '-b', 'main']);
      for (const [file, text] of Object.entries(files)) {
        mkdirSync(dirname(join(seed, file)), { recursive: true });
        writeFileSync(join(seed, file), text);
      }
      git(seed, ['add', '-A']);
      git(seed, ['commit', '--quiet', '-m', 'Initial commit']);
      git(seed, ['push', '--quiet', path, 'main']);
    } finally {
      rmSync(seed, { recursive: true, force: true });
    }
    return new BareRepo(path);
  }

  /** The URL git clones and pushes (what Actions' checkout and GASTOWN_GIT_URL point at). */
  get url(): string {
    return `file://${this.path}`;
  }

  async sha(ref: string): Promise<string | null> {
    const r = await gitAsync(this.path, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).catch(() => null);
    return r ? r.trim() : null;
  }

  /** Whether commit `a` is an ancestor of (or equal to) commit `b`. */
  async isAncestor(a: string, b: string): Promise<boolean> {
    return gitAsync(this.path, ['merge-base', '--is-ancestor', a, b]).then(
      () => true,
      () => false,
    );
  }

  /** A file's text at `ref` (default: the default branch), or null when there is none. */
  async readFile(path: string, ref = this.defaultBranch): Promise<string | null> {
    const spec = `${ref}:${path.replace(/^\/+/, '')}`;
    const type = await gitAsync(this.path, ['cat-file', '-t', spec]).catch(() => null);
    if (type?.trim() !== 'blob') return null;
    return gitAsync(this.path, ['cat-file', 'blob', spec]);
  }

  /** The top-level entries of `ref`'s tree ([] for an empty repository). */
  async tree(ref = this.defaultBranch): Promise<TreeEntry[]> {
    const out = await gitAsync(this.path, ['ls-tree', ref]).catch(() => '');
    return out
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [meta = '', name = ''] = line.split('\t');
        const [mode = '0', type = 'blob'] = meta.split(' ');
        return { name, type: type as TreeEntry['type'], mode: parseInt(mode, 8) };
      });
  }

  /**
   * Whether `head` merges into `base` without a conflict (what GitHub computes for a pull
   * request's `mergeable`), by a real `git merge-tree`; null when a branch is missing.
   */
  async mergesCleanly(head: string, base: string): Promise<boolean | null> {
    const baseSha = await this.sha(`refs/heads/${base}`);
    const headSha = await this.sha(`refs/heads/${head}`);
    if (!baseSha || !headSha) return null;
    return gitAsync(this.path, ['merge-tree', '--write-tree', baseSha, headSha]).then(
      () => true,
      () => false,
    );
  }

  /** Merges `head` into `base` as GitHub's merge button does (a merge commit), or says why not. */
  async merge(head: string, base: string, message: string, author: { name: string; email: string }): Promise<MergeResult> {
    const baseSha = await this.sha(`refs/heads/${base}`);
    const headSha = await this.sha(`refs/heads/${head}`);
    if (!baseSha || !headSha) return { merged: false, reason: 'no_branch' };
    let tree: string;
    try {
      tree = (await gitAsync(this.path, ['merge-tree', '--write-tree', baseSha, headSha])).split('\n')[0]!.trim();
    } catch {
      return { merged: false, reason: 'conflict' };
    }
    const env = { ...DOUBLE_GIT_ENV, GIT_AUTHOR_NAME: author.name, GIT_AUTHOR_EMAIL: author.email };
    const commit = (await gitAsync(this.path, ['commit-tree', tree, '-p', baseSha, '-p', headSha, '-m', message], env)).trim();
    try {
      await gitAsync(this.path, ['update-ref', `refs/heads/${base}`, commit, baseSha]);
    } catch {
      return { merged: false, reason: 'base_moved' };
    }
    return { merged: true, sha: commit };
  }

  /** A person pushes one commit to `branch` (default: the default branch) writing `files`. */
  async commitFiles(files: Record<string, string>, message: string, branch = this.defaultBranch): Promise<string> {
    const work = mkdtempSync(join(tmpdir(), 'double-push-'));
    try {
      await gitAsync(work, ['clone', '--quiet', '--branch', branch, this.path, '.']);
      for (const [file, text] of Object.entries(files)) {
        mkdirSync(dirname(join(work, file)), { recursive: true });
        writeFileSync(join(work, file), text);
      }
      await gitAsync(work, ['add', '-A']);
      await gitAsync(work, ['commit', '--quiet', '-m', message]);
      await gitAsync(work, ['push', '--quiet', 'origin', branch]);
      return (await gitAsync(work, ['rev-parse', 'HEAD'])).trim();
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  /** Ref names under `prefix` with their commits (the ledger a test asserts on). */
  refs(prefix: string): Map<string, string> {
    const out = git(this.path, ['for-each-ref', '--format=%(refname) %(objectname)', prefix]);
    return new Map(
      out
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' ') as [string, string]),
    );
  }

  async deleteBranch(branch: string): Promise<void> {
    await gitAsync(this.path, ['update-ref', '-d', `refs/heads/${branch}`]).catch(() => undefined);
  }
}

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, env: DOUBLE_GIT_ENV, encoding: 'utf8' });
}

async function gitAsync(cwd: string, args: string[], env: NodeJS.ProcessEnv = DOUBLE_GIT_ENV): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}
