import type { Convoy } from '../town/types.js';

/**
 * Source keys for convoys planned from GitHub issues: the key a redelivered webhook maps to
 * the same convoy with (`convoyIdFor(key)` in rig/record-plan.ts).
 */

/** `github:<owner>/<repo>#<issue>` for the parent issue a convoy was planned from. */
export function githubSourceKey(repo: string, issueNumber: number): string {
  return `github:${repo}#${issueNumber}`;
}

/** The convoy mark GitHub keeps its status comment's id under (see `Convoy.marks`). */
export const STATUS_COMMENT = 'github.statusComment';

/** The convoy's status comment id, or null (convoys written before marks held `statusCommentId`). */
export function statusCommentOf(convoy: Convoy): number | null {
  const id = convoy.marks?.[STATUS_COMMENT] ?? (convoy as { statusCommentId?: number | null }).statusCommentId;
  return typeof id === 'number' ? id : null;
}
