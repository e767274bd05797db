import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GastownError } from '../../errors.js';
import { runProcess } from '../run-process.js';
import { AGENT_USER, ensureAgentUser, lookupUser } from './agent-user.js';
import { createBwrapSandbox } from './bwrap-sandbox.js';
import { findOnPath } from './find-on-path.js';
import type { Sandbox } from './sandbox.js';
import { createUserSandbox, USER_SANDBOX_GAPS } from './user-sandbox.js';

export { findOnPath } from './find-on-path.js';

/** Which sandbox to use: `auto` takes bubblewrap when it works, else the user sandbox when this runner can switch users. */
export type SandboxChoice = 'auto' | 'bwrap' | 'user';
export const SANDBOX_CHOICES: readonly SandboxChoice[] = ['auto', 'bwrap', 'user'];

export type SandboxAvailability =
  | { available: true; sandbox: Sandbox; detail: string }
  | { available: false; reason: string; hint: string };

const INSTALL = 'install bubblewrap (apt-get install bubblewrap)';
const NAMESPACES =
  "this machine does not let bwrap create namespaces: Ubuntu 23.10 and later (GitHub's ubuntu-24.04 runners) restrict unprivileged " +
  'user namespaces with AppArmor; allow them (sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0), run the runner as root, ' +
  'or in a container that allows namespaces';

const cache = new Map<string, Promise<SandboxAvailability>>();

/**
 * Whether agents can be sandboxed here, and in what:
 * - `bwrap`: bwrap on PATH, and a trial sandbox built exactly as the runner builds them
 *   (same namespaces and mounts) that runs `true`;
 * - `user`: this runner is root (it must switch users and own the workspaces' handover),
 *   setpriv is on PATH, and the agent user exists or useradd can make it;
 * - `auto`: bwrap when it works, else the user sandbox, else neither (never silently none).
 * The answer is kept per PATH and choice for the life of the process (a probe costs one
 * sandbox start, ~15 ms).
 */
export function detectSandbox(
  env: Record<string, string | undefined> = process.env,
  choice: SandboxChoice = 'auto',
): Promise<SandboxAvailability> {
  const key = `${choice}\0${env.PATH ?? ''}`;
  let found = cache.get(key);
  if (!found) {
    found = choose(env, choice);
    cache.set(key, found);
  }
  return found;
}

/** The chosen sandbox, or a `gastown_config` error saying in one line why not and what to do. */
export async function requireSandbox(
  env: Record<string, string | undefined> = process.env,
  choice: SandboxChoice = 'auto',
): Promise<Sandbox> {
  const found = await detectSandbox(env, choice);
  if (found.available) return found.sandbox;
  throw new GastownError(
    'gastown_config',
    `cannot sandbox polecat agents: ${found.reason}; ${found.hint}, or pass --no-sandbox to run them unsandboxed`,
  );
}

async function choose(env: Record<string, string | undefined>, choice: SandboxChoice): Promise<SandboxAvailability> {
  const PATH = env.PATH ?? '';
  if (choice === 'user') return probeUser(env);
  const bwrap = await probe(PATH);
  if (bwrap.available || choice === 'bwrap') return bwrap;
  const user = await probeUser(env);
  if (!user.available) return { available: false, reason: `${bwrap.reason}, and ${user.reason}`, hint: bwrap.hint };
  return { ...user, detail: `${user.detail} (bubblewrap is unavailable: ${bwrap.reason})` };
}

/**
 * The user sandbox, when this runner can switch users. The agent user is looked up now and
 * created (useradd) only when the sandbox is first used, so `gt doctor` changes nothing.
 */
async function probeUser(env: Record<string, string | undefined>): Promise<SandboxAvailability> {
  const PATH = env.PATH ?? '';
  const hint = 'run the runner as root (it switches to the unprivileged user gastown-agent for every agent command)';
  if (process.getuid?.() !== 0) return { available: false, reason: 'the user sandbox needs a root runner (this one is not)', hint };
  const setpriv = findOnPath('setpriv', PATH);
  if (!setpriv)
    return { available: false, reason: 'the user sandbox needs setpriv (util-linux), which is not installed', hint: 'install util-linux' };
  const existing = await lookupUser(AGENT_USER, env);
  if (!existing && !findOnPath('useradd', PATH))
    return {
      available: false,
      reason: `there is no user ${AGENT_USER} and no useradd to create it`,
      hint: `create a system user ${AGENT_USER}`,
    };
  const sandbox = createUserSandbox({ user: existing ?? (() => ensureAgentUser(env)), setpriv });
  const who = existing ? `${AGENT_USER} (uid ${existing.uid})` : `${AGENT_USER} (created on first use)`;
  return {
    available: true,
    sandbox,
    detail: `user sandbox: agents run as ${who} via ${setpriv}, with only their workspace theirs to write and the rig, remote and HOME made private; not covered: ${USER_SANDBOX_GAPS.join('; ')}`,
  };
}

async function probe(PATH: string): Promise<SandboxAvailability> {
  const bwrap = findOnPath('bwrap', PATH);
  if (!bwrap) return { available: false, reason: 'bubblewrap (bwrap) is not installed', hint: INSTALL };
  const dir = mkdtempSync(path.join(tmpdir(), 'gastown-sandbox-probe-'));
  try {
    const workspace = path.join(dir, 'repo');
    const home = path.join(dir, 'home');
    mkdirSync(workspace);
    mkdirSync(home);
    const sandbox = createBwrapSandbox(bwrap);
    const cmd = sandbox.command(['true'], { workspace, home, env: { PATH: '/usr/bin:/bin' }, network: false, readOnly: [], hide: [] });
    const run = await runProcess(cmd.file, cmd.args, { cwd: cmd.cwd, env: cmd.env, timeoutMs: 10_000 });
    if (run.exitCode !== 0) {
      const reason = `${bwrap} cannot start a sandbox (${firstLine(run.output) || `exit ${run.exitCode ?? run.signal}`})`;
      return {
        available: false,
        reason,
        hint: /namespace|uid map|not permitted|permission denied/i.test(run.output) ? NAMESPACES : INSTALL,
      };
    }
    const version = await runProcess(bwrap, ['--version'], { cwd: dir, env: { PATH: '/usr/bin:/bin' }, timeoutMs: 10_000 });
    return { available: true, sandbox, detail: `${firstLine(version.output) || 'bubblewrap'} (${bwrap})` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.trim() ?? '';
}
