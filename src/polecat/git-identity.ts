import { GastownError } from '../errors.js';
import { runGit } from './run-git.js';

export interface GitIdentity {
  name: string;
  email: string;
}

/**
 * Environment that pins author and committer for one git command. Environment variables
 * beat every config file, so a commit made with these never depends on the machine's
 * git settings (CI machines often have none).
 */
export function gitIdentityEnv(identity: GitIdentity): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: identity.name,
    GIT_AUTHOR_EMAIL: identity.email,
    GIT_COMMITTER_NAME: identity.name,
    GIT_COMMITTER_EMAIL: identity.email,
  };
}

/**
 * The polecat identity stored in a worktree's own config (`config --worktree`), as written
 * by createPolecatWorktree. Throws `gastown_git` when it is missing: committing with
 * whatever identity the machine happens to have would misattribute the work.
 */
export async function readWorktreeIdentity(worktree: string): Promise<GitIdentity> {
  const get = async (key: string): Promise<string> =>
    (await runGit(worktree, ['config', '--worktree', '--get', key], { okCodes: [0, 1] })).stdout.trim();
  const name = await get('user.name');
  const email = await get('user.email');
  if (!name || !email) {
    throw new GastownError('gastown_git', `worktree ${worktree} has no polecat identity (user.name/user.email in config.worktree)`, {
      worktree,
    });
  }
  return { name, email };
}
