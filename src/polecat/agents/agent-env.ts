import { runGit } from '../run-git.js';

/**
 * The only variables an agent's processes inherit from the runner. Everything else (the
 * app's private key, Slack and forge tokens) stays out of reach of code the agent runs;
 * anything an agent genuinely needs is passed explicitly by whoever builds the agent.
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

/** The environment of one agent process: pass-through vars, the bead and polecat, extras. */
export async function agentEnv(opts: {
  base: Record<string, string>;
  worktree: string;
  beadId: string;
  extra?: Record<string, string>;
}): Promise<Record<string, string>> {
  return {
    ...opts.base,
    GASTOWN_BEAD: opts.beadId,
    GASTOWN_POLECAT: await worktreePolecat(opts.worktree),
    ...opts.extra,
  };
}

/** The polecat name recorded in the worktree's config; empty outside a polecat worktree. */
async function worktreePolecat(worktree: string): Promise<string> {
  const { stdout } = await runGit(worktree, ['config', '--get', 'gastown.polecat'], { okCodes: [0, 1] });
  return stdout.trim();
}
