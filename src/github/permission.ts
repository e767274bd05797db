/**
 * Who may start, approve or stop work: only people with write access (security stance).
 */
import type { ProbotOctokit } from 'probot';

import { getPermission } from '../forge/github-permission.js';
import { hasWrite, type RepoPermission } from '../town/permissions.js';
import type { Delivery } from './delivery.js';

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

/**
 * Whether the delivery's sender has write access, for a command only writers may give. When
 * not, says so on the issue (naming what was refused: "stop a convoy") and logs it.
 */
export async function senderMayWrite(delivery: Delivery, what: string): Promise<boolean> {
  const { octokit, forge, target, log } = delivery;
  const level = await getPermission(octokit, target.owner, target.repo, target.sender);
  if (hasWrite(level)) return true;
  log.info({ sender: target.sender, level }, `Refused to ${what}: sender lacks write access`);
  await forge.comment(target.issue.number, `Sorry @${target.sender}, only people with write access to this repository can ${what}.`);
  return false;
}
