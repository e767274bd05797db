import type { ProbotOctokit } from 'probot';
import { isRepoPermission, type RepoPermission } from '../town/permissions.js';

type Octokit = InstanceType<typeof ProbotOctokit>;

/**
 * The collaborator's permission on the repository. `role_name` carries the finer roles
 * (maintain, triage, custom roles) that `permission` folds into write/read; a custom role
 * falls back to `permission`. Not a collaborator (404) → 'none'.
 */
export async function getPermission(octokit: Octokit, owner: string, repo: string, login: string): Promise<RepoPermission> {
  try {
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username: login });
    const role = (data as { role_name?: string }).role_name;
    if (role !== undefined && isRepoPermission(role)) return role;
    return isRepoPermission(data.permission) ? data.permission : 'none';
  } catch (err) {
    if ((err as { status?: number }).status === 404) return 'none';
    throw err;
  }
}
