/**
 * Who may start, approve or stop work: only people with write access (security stance).
 */
import type { ProbotOctokit } from 'probot';

import { getPermission } from '../forge/github-permission.js';
import type { RepoPermission } from '../town/permissions.js';

type Octokit = InstanceType<typeof ProbotOctokit>;

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
