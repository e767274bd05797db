import { accessSync, constants, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GastownError } from '../../errors.js';
import { runProcess } from '../run-process.js';
import { createBwrapSandbox } from './bwrap-sandbox.js';
import type { Sandbox } from './sandbox.js';

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
 * Whether agents can be sandboxed here: bwrap on PATH, and a trial sandbox built exactly as
 * the runner builds them (same namespaces and mounts) that runs `true`. The answer is kept
 * per PATH for the life of the process (a probe costs one sandbox start, ~15 ms).
 */
export function detectSandbox(env: Record<string, string | undefined> = process.env): Promise<SandboxAvailability> {
  const key = env.PATH ?? '';
  let found = cache.get(key);
  if (!found) {
    found = probe(key);
    cache.set(key, found);
  }
  return found;
}

/** The bwrap sandbox, or a `gastown_config` error saying in one line why not and what to do. */
export async function requireSandbox(env: Record<string, string | undefined> = process.env): Promise<Sandbox> {
  const found = await detectSandbox(env);
  if (found.available) return found.sandbox;
  throw new GastownError(
    'gastown_config',
    `cannot sandbox polecat agents: ${found.reason}; ${found.hint}, or pass --no-sandbox to run them unsandboxed`,
  );
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

export function findOnPath(name: string, PATH: string): string | null {
  for (const dir of PATH.split(path.delimiter)) {
    if (!dir || !path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.trim() ?? '';
}
