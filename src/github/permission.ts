/**
 * Who may start, approve or stop work: only people with write access (security stance).
 */
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

/** `getPermission` remembered per login: one request per distinct person for one delivery. */
export type PermissionLookup = (login: string) => Promise<RepoPermission>;

/**
 * A lookup that asks GitHub once per login (the promise is kept, so concurrent asks share one
 * request). Make one per delivery: permissions change, and a cache that outlived the
 * delivery would keep a revoked writer's word.
 */
export function permissionLookup(octokit: Octokit, owner: string, repo: string): PermissionLookup {
  const known = new Map<string, Promise<RepoPermission>>();
  return (login) => {
    const key = login.toLowerCase();
    let level = known.get(key);
    if (!level) {
      level = getPermission(octokit, owner, repo, login);
      known.set(key, level);
    }
    return level;
  };
}
