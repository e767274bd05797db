/**
 * The only variables the Refinery's gate inherits from the runner. Agents get theirs from
 * the sandbox (sandbox/sandbox-env.ts: an allow-list in the rig settings).
 */
export const PASS_THROUGH_VARS = ['PATH', 'HOME'] as const;

export function pickPassThrough(source: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of PASS_THROUGH_VARS) {
    const value = source[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}
