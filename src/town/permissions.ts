import { GastownError } from '../errors.js';

/**
 * Who may do what, on every surface: a person's permission on the repository decides
 * (security stance: only people with write access start, approve, revise, stop or sling
 * work). GitHub reports these levels; the local rig and Slack map onto them.
 */
export const REPO_PERMISSIONS = ['admin', 'maintain', 'write', 'triage', 'read', 'none'] as const;
export type RepoPermission = (typeof REPO_PERMISSIONS)[number];

/** Implemented over the forge (GitHub: `repos.getCollaboratorPermissionLevel` + role_name). */
export type PermissionChecker = (login: string, repo: string) => Promise<RepoPermission>;

const WRITE_OR_ABOVE: ReadonlySet<RepoPermission> = new Set(['admin', 'maintain', 'write']);

export function isRepoPermission(value: string): value is RepoPermission {
  return (REPO_PERMISSIONS as readonly string[]).includes(value);
}

export function hasWrite(level: RepoPermission): boolean {
  return WRITE_OR_ABOVE.has(level);
}

/** Throws `gastown_forbidden` naming the action, the repository and what the login has. */
export async function requireWrite(check: PermissionChecker, login: string, repo: string, action: string): Promise<void> {
  const level = await check(login, repo);
  if (hasWrite(level)) return;
  const has = level === 'none' ? 'no access' : `only ${level} access`;
  throw new GastownError('gastown_forbidden', `Only people with write access to ${repo} can ${action}; ${login} has ${has}.`, {
    login,
    repo,
    permission: level,
    action,
  });
}
