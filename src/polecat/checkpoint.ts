import { gitIdentityEnv, readWorktreeIdentity } from './git-identity.js';
import { runGit } from './run-git.js';

export interface CheckpointOptions {
  worktree: string;
  message: string;
  /** Push HEAD to `refs/heads/<branch>` on `remote` afterwards (a normal push, never forced). */
  push?: { remote: string; branch: string };
}

export interface CheckpointResult {
  /** False when there was nothing to commit (the push, if asked, still happens). */
  committed: boolean;
  /** HEAD after the checkpoint. */
  sha: string;
}

/**
 * Commits everything in the worktree as the polecat and optionally pushes it:
 * 1. `git add -A`;
 * 2. commit only if the index differs from HEAD, as the identity stored in the worktree's
 *    config (pinned through the environment), with hooks running so trailers are added;
 * 3. push HEAD to the polecat branch when asked; the pre-push hook guards the target.
 * A push rejected by the remote or the hook is a `gastown_git` error.
 */
export async function checkpoint(opts: CheckpointOptions): Promise<CheckpointResult> {
  const wt = opts.worktree;
  await runGit(wt, ['add', '-A']);
  const { exitCode } = await runGit(wt, ['diff', '--cached', '--quiet'], { okCodes: [0, 1] });
  let committed = false;
  if (exitCode === 1) {
    const identity = await readWorktreeIdentity(wt);
    await runGit(wt, ['commit', '--quiet', '-m', opts.message], { env: gitIdentityEnv(identity) });
    committed = true;
  }
  const sha = (await runGit(wt, ['rev-parse', 'HEAD'])).stdout.trim();
  if (opts.push) {
    await runGit(wt, ['push', '--quiet', opts.push.remote, `HEAD:refs/heads/${opts.push.branch}`]);
  }
  return { committed, sha };
}
