import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runGitText } from '../ledger/run-git.js';
import { parsePolecatBranch } from '../town/ids.js';
import { retryOnGitLock, type RigRemote } from './runner/rig-remote.js';

/**
 * Nuke: once a bead's work is merged its polecat branch has nothing left to say (the
 * default branch holds the work), so it goes everywhere this clone knows it: on the remote,
 * in the rig (`refs/heads/`), the remote-tracking copy, a workspace left behind (a kept or
 * crashed one) and git's worktree records. Only `polecat/<name>/<bead>` branches are ever
 * deleted, and every step is idempotent: a branch already gone is not an error, so a
 * Refinery that crashed half-way, or two that merged the same bead, both end clean.
 */
export async function nukePolecatBranch(
  repoDir: string,
  remote: RigRemote,
  branch: string,
  opts: { workspaceRoot?: string } = {},
): Promise<void> {
  const names = parsePolecatBranch(branch);
  if (!names) return;
  // `--delete` of a branch the remote no longer has fails with "remote ref does not exist":
  // that is the end state we want.
  await runGitText(['push', '--quiet', '--no-verify', remote.remote, '--delete', `refs/heads/${branch}`], {
    cwd: repoDir,
    okCodes: [0, 1],
  });
  for (const ref of [`refs/heads/${branch}`, `${remote.tracking}${branch}`])
    await retryOnGitLock(() => runGitText(['update-ref', '-d', ref], { cwd: repoDir }));
  if (opts.workspaceRoot) await rm(join(opts.workspaceRoot, `${names.polecat}-${names.bead}`), { recursive: true, force: true });
  await runGitText(['worktree', 'prune'], { cwd: repoDir });
}
