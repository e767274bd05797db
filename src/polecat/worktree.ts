import { existsSync } from 'node:fs';
import { mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { GastownError } from '../errors.js';
import type { GitIdentity } from './git-identity.js';
import { runGit } from './run-git.js';

export interface CreatePolecatWorktreeOptions {
  /** A clone of the rig (the runner's own checkout). */
  repoDir: string;
  /** Directory that holds all polecat worktrees. */
  worktreeRoot: string;
  polecat: string;
  beadId: string;
  /** Where a fresh branch starts, e.g. 'main' or 'origin/main'. */
  baseRef: string;
  /** An existing (already fetched) remote branch to continue from, e.g. 'origin/polecat/nux/gt-abcd'. */
  resumeFrom?: string | null;
  identity: GitIdentity;
  /** Directory holding the pre-push and commit-msg hooks. */
  hooksDir: string;
}

export interface PolecatWorktree {
  path: string;
  branch: string;
}

// Names end up in branch names, directory names and shell-visible config: keep them boring.
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function polecatBranch(polecat: string, beadId: string): string {
  return `polecat/${polecat}/${beadId}`;
}

/**
 * Creates (or reuses) the worktree where one polecat works on one bead:
 * 1. enable per-worktree config in the repository and prune registrations whose directory vanished;
 * 2. reuse the worktree already checked out on `polecat/<name>/<bead>`, or add one at
 *    `<worktreeRoot>/<name>-<bead>` from the local branch, `resumeFrom`, or `baseRef`;
 * 3. write the worktree's own config: gastown.*, the polecat's identity and core.hooksPath.
 * Idempotent: calling it again for the same polecat and bead returns the same worktree.
 */
export async function createPolecatWorktree(opts: CreatePolecatWorktreeOptions): Promise<PolecatWorktree> {
  for (const [field, value] of [
    ['polecat', opts.polecat],
    ['beadId', opts.beadId],
  ] as const) {
    if (!SAFE_NAME.test(value)) {
      throw new GastownError('gastown_bad_input', `invalid ${field} '${value}': letters, digits, '.', '_' and '-' only`, { [field]: value });
    }
  }
  const branch = polecatBranch(opts.polecat, opts.beadId);
  const wanted = path.resolve(opts.worktreeRoot, `${opts.polecat}-${opts.beadId}`);
  const repo = opts.repoDir;

  await enableWorktreeConfig(repo);
  await runGit(repo, ['worktree', 'prune']);

  let wtPath = await findWorktreeForBranch(repo, branch);
  if (wtPath === null) {
    if (existsSync(wanted)) {
      throw new GastownError('gastown_git', `${wanted} exists but is not the worktree of ${branch}; refusing to overwrite it`, {
        path: wanted,
        branch,
      });
    }
    await mkdir(opts.worktreeRoot, { recursive: true });
    await addWorktree(repo, wanted, branch, opts);
    wtPath = await realpath(wanted);
  }

  const hooksDir = path.resolve(opts.hooksDir);
  const settings: [string, string][] = [
    ['gastown.polecat', opts.polecat],
    ['gastown.bead', opts.beadId],
    ['gastown.branch', branch],
    ['user.name', opts.identity.name],
    ['user.email', opts.identity.email],
    ['core.hooksPath', hooksDir],
  ];
  for (const [key, value] of settings) {
    await runGit(wtPath, ['config', '--worktree', key, value]);
  }
  return { path: wtPath, branch };
}

async function addWorktree(repo: string, wtPath: string, branch: string, opts: CreatePolecatWorktreeOptions): Promise<void> {
  const local = await refExists(repo, `refs/heads/${branch}`);
  if (local) {
    // A branch left by an earlier attempt: continue it, but take the remote's newer
    // checkpoints when the local branch is simply behind (never discard local commits).
    if (opts.resumeFrom && (await isAncestor(repo, `refs/heads/${branch}`, opts.resumeFrom))) {
      await runGit(repo, ['branch', '-f', branch, opts.resumeFrom]);
    }
    await runGit(repo, ['worktree', 'add', wtPath, branch]);
    return;
  }
  const start = opts.resumeFrom || opts.baseRef;
  if (!(await refExists(repo, `${start}^{commit}`))) {
    throw new GastownError('gastown_git', `start point '${start}' does not resolve to a commit in ${repo}`, { start, repo });
  }
  // --no-track: the branch must never inherit an upstream such as origin/main, or a bare
  // `git push` could aim at the default branch; checkpoints push with an explicit refspec.
  await runGit(repo, ['worktree', 'add', '--no-track', '-b', branch, wtPath, start]);
}

/**
 * Turns on `extensions.worktreeConfig` so each worktree has its own config file. Git's rule
 * for that extension: a `core.bare = true` in the shared config would then apply to every
 * worktree (they all stop being work trees), so it moves to the bare repository's own
 * config.worktree. Setting before unsetting means a crash in between leaves both, which is safe.
 */
async function enableWorktreeConfig(repo: string): Promise<void> {
  await runGit(repo, ['config', 'extensions.worktreeConfig', 'true']);
  const bare = await runGit(repo, ['config', '--local', '--get', 'core.bare'], { okCodes: [0, 1] });
  if (bare.stdout.trim() === 'true') {
    await runGit(repo, ['config', '--worktree', 'core.bare', 'true']);
    await runGit(repo, ['config', '--local', '--unset', 'core.bare']);
  }
}

/** Removes a polecat worktree (the branch and its commits stay). Idempotent. */
export async function removePolecatWorktree(repoDir: string, worktreePath: string): Promise<void> {
  if (existsSync(worktreePath)) {
    await runGit(repoDir, ['worktree', 'remove', '--force', worktreePath]);
  }
  await runGit(repoDir, ['worktree', 'prune']);
}

async function findWorktreeForBranch(repo: string, branch: string): Promise<string | null> {
  const { stdout } = await runGit(repo, ['worktree', 'list', '--porcelain']);
  let current: string | null = null;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('worktree ')) current = line.slice('worktree '.length);
    else if (line === `branch refs/heads/${branch}` && current !== null) {
      return existsSync(current) ? realpath(current) : null;
    }
  }
  return null;
}

async function refExists(repo: string, ref: string): Promise<boolean> {
  const { exitCode } = await runGit(repo, ['rev-parse', '--verify', '--quiet', ref], { okCodes: [0, 1, 128] });
  return exitCode === 0;
}

async function isAncestor(repo: string, ancestor: string, descendant: string): Promise<boolean> {
  const { exitCode } = await runGit(repo, ['merge-base', '--is-ancestor', ancestor, descendant], { okCodes: [0, 1] });
  return exitCode === 0;
}
