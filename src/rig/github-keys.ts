/**
 * Source keys for convoys planned from GitHub issues: the key a redelivered webhook maps to
 * the same convoy with (`convoyIdFor(key)`).
 */

/** `github:<owner>/<repo>#<issue>` for the parent issue a convoy was planned from. */
export function githubSourceKey(repo: string, issueNumber: number): string {
  return `github:${repo}#${issueNumber}`;
}
