/**
 * Who may start, approve or stop work: only people with write access (security stance).
 */
import type { ProbotOctokit } from 'probot';

export type PermissionLevel = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

const LEVELS: readonly PermissionLevel[] = ['admin', 'maintain', 'write', 'triage', 'read', 'none'];

type Octokit = InstanceType<typeof ProbotOctokit>;

/**
 * The collaborator's permission on the repository. `role_name` carries the finer roles
 * (maintain, triage, custom roles) that `permission` folds into write/read; a custom role
 * falls back to `permission`. Not a collaborator (404) → 'none'.
 */
export async function getPermission(octokit: Octokit, owner: string, repo: string, login: string): Promise<PermissionLevel> {
  try {
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username: login });
    const role = (data as { role_name?: string }).role_name;
    if (role !== undefined && (LEVELS as readonly string[]).includes(role)) return role as PermissionLevel;
    return (LEVELS as readonly string[]).includes(data.permission) ? (data.permission as PermissionLevel) : 'none';
  } catch (err) {
    if ((err as { status?: number }).status === 404) return 'none';
    throw err;
  }
}

export function hasWrite(level: PermissionLevel): boolean {
  return level === 'write' || level === 'maintain' || level === 'admin';
}

/** `getPermission` remembered per login: one request per distinct person for one delivery. */
export type PermissionLookup = (login: string) => Promise<PermissionLevel>;

/**
 * A lookup that asks GitHub once per login (the promise is kept, so concurrent asks share one
 * request). Make one per delivery: permissions change, and a cache that outlived the
 * delivery would keep a revoked writer's word.
 */
export function permissionLookup(octokit: Octokit, owner: string, repo: string): PermissionLookup {
  const known = new Map<string, Promise<PermissionLevel>>();
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
