/**
 * Passed to every sandboxed command when the runner has them: how to find programs and which
 * locale to speak. Nothing here is a secret.
 */
export const SANDBOX_BASE_VARS = ['PATH', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TERM', 'TZ'] as const;

/** A variable name the allow-list may hold (what a POSIX shell can export). */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The complete environment of a sandboxed command, built from an allow-list and never from
 * the runner's environment as a whole:
 * 1. SANDBOX_BASE_VARS and the names in `allow` (the rig setting `sandbox.env`, e.g. the API
 *    key a command agent needs), copied from `source` when set there;
 * 2. HOME the polecat's private home, TMPDIR /tmp (the sandbox's own);
 * 3. `extra` (GASTOWN_BEAD, GASTOWN_POLECAT, a commit identity), which wins.
 */
export function sandboxEnv(opts: {
  source: Record<string, string | undefined>;
  allow: readonly string[];
  home: string;
  extra?: Record<string, string>;
}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...SANDBOX_BASE_VARS, ...opts.allow]) {
    const value = opts.source[name];
    if (value !== undefined && ENV_NAME.test(name)) env[name] = value;
  }
  return { ...env, HOME: opts.home, TMPDIR: '/tmp', ...opts.extra };
}
