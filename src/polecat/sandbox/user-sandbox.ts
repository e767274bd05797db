import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, statSync } from 'node:fs';
import { lstat, mkdir, stat, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GastownError } from '../../errors.js';
import { AGENT_USER, type AgentUser } from './agent-user.js';
import { chownTree } from './chown-tree.js';
import type { Sandbox, SandboxCommand, SandboxSpec } from './sandbox.js';

/**
 * What the user sandbox does not protect, said wherever it is chosen (gt doctor, the
 * runner's first line): it is a fallback for machines where bubblewrap cannot make
 * namespaces, not an equal.
 */
export const USER_SANDBOX_GAPS = [
  'the agent can read every world-readable file of the host',
  'no network isolation',
  'it can write where any user may (/tmp, /var/tmp, /dev/shm)',
  "it sees the host's processes and their command lines (not their environments)",
  "polecats on this machine share the agent user, so one agent can reach another's workspace",
  'a process it starts in a session of its own can outlive its command',
] as const;

export interface UserSandboxOptions {
  /** The agent user, or how to get it (ensureAgentUser: created on first use). */
  user: AgentUser | (() => Promise<AgentUser>);
  /** setpriv (util-linux), found on PATH. */
  setpriv: string;
  /** Holds one directory of workspaces per rig; default `<tmpdir>/gastown-agent-workspaces-<runner uid>`. */
  workspaceBase?: string;
}

/**
 * Where bubblewrap cannot make namespaces: every command runs as a separate unprivileged
 * user (`gastown-agent`), switched to by a root runner with
 * `setpriv --reuid --regid --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all`.
 * What keeps the runner's secrets from it is the kernel's file and process permissions:
 * - the environment is exactly `spec.env` (the allow-list), TMPDIR a directory in its HOME;
 * - `/proc/<runner>/environ` belongs to the runner's user (mode 0400, ptrace rules): refused;
 * - everything `spec.hide` names (the rig and its git directory with its config and
 *   credentials, a local remote, the runner's HOME, where token files live) is made private
 *   to its owner (`chmod go-rwx`: 0700 directories, 0600 files) before the first command;
 * - workspaces live outside the rig, in a directory of the runner's (0711: passable, not
 *   listable); the workspace and the polecat's HOME are given to the agent user before each
 *   command (chown-tree.ts), so only they are its to write.
 * The runner still collects commits through a bundle and checks refs after the agent
 * (ref-tripwire.ts), as with bubblewrap. What it does not cover: USER_SANDBOX_GAPS.
 */
export function createUserSandbox(opts: UserSandboxOptions): Sandbox {
  const base = path.resolve(opts.workspaceBase ?? path.join(tmpdir(), `gastown-agent-workspaces-${process.getuid?.() ?? 0}`));
  const secured = new Set<string>();
  let user: AgentUser | null = null;
  let resolving: Promise<AgentUser> | null = null;
  const resolveUser = async (): Promise<AgentUser> => {
    if (user) return user;
    resolving ??= typeof opts.user === 'function' ? opts.user() : Promise.resolve(opts.user);
    const got = await resolving.catch((err: unknown) => {
      resolving = null;
      throw err;
    });
    if (got.uid === 0 || got.gid === 0) throw new GastownError('gastown_config', 'the user sandbox never runs agents as root');
    return (user = got);
  };
  const named = typeof opts.user === 'function' ? `${AGENT_USER} (created on first use)` : `${opts.user.name} (uid ${opts.user.uid})`;
  return {
    name: 'user',
    isFallback: true,
    runsInRigWorktrees: false,
    runnerToolsSafe: false,
    describe: `user sandbox: agents run as ${named} via setpriv; not covered: ${USER_SANDBOX_GAPS.join('; ')}`,
    workspaceRoot(gitDir: string): string {
      ensurePassableDir(base);
      // One directory per rig: two rigs on one machine may have a polecat and bead of the same names.
      return path.join(base, createHash('sha256').update(path.resolve(gitDir)).digest('hex').slice(0, 16));
    },
    async prepare(spec: SandboxSpec): Promise<void> {
      const { uid, gid } = await resolveUser();
      const workspace = path.resolve(spec.workspace);
      if (!workspace.startsWith(`${base}${path.sep}`))
        throw new GastownError(
          'gastown_config',
          `the user sandbox runs commands only in polecat workspaces under ${base}, not in ${workspace} (the local Refinery's gate needs bubblewrap)`,
        );
      for (const hidden of spec.hide) {
        const abs = path.resolve(hidden);
        if (secured.has(abs)) continue;
        // A HOME of `/` (some containers) or a rig above the workspaces: making it private would
        // lock the agent out of its workspace (and, for `/`, every other user out of the machine).
        if (base === abs || base.startsWith(abs === '/' ? '/' : `${abs}${path.sep}`))
          throw new GastownError(
            'gastown_config',
            `the user sandbox cannot make ${abs} private: the agents' workspaces are under it (${base}); give the runner another HOME or TMPDIR`,
          );
        await makePrivate(abs);
        secured.add(abs);
      }
      // A fresh workspace is still all the runner's: walked whole. Afterwards only the runner's
      // own writes (the built-in agent's file tools, never in .git) need giving over.
      const fresh = (await lstat(workspace)).uid !== uid;
      if ((await lstat(spec.home)).uid !== uid) await mkdir(path.join(spec.home, '.tmp'), { recursive: true });
      await chownTree(spec.home, uid, gid);
      await chownTree(workspace, uid, gid, fresh ? [] : ['.git']);
    },
    command(argv: string[], spec: SandboxSpec): SandboxCommand {
      // prepare (runInSandbox calls it first) resolved the user; without it there is no one to run as.
      if (!user) throw new GastownError('gastown_config', 'the user sandbox was not prepared for this command');
      const { uid, gid } = user;
      const args = [
        `--reuid=${uid}`,
        `--regid=${gid}`,
        '--clear-groups',
        '--no-new-privs',
        '--inh-caps=-all',
        '--bounding-set=-all',
        '--',
        ...argv,
      ];
      return { file: opts.setpriv, args, cwd: spec.workspace, env: { ...spec.env, TMPDIR: path.join(spec.home, '.tmp') } };
    },
  };
}

/**
 * The workspace base: made 0711 (the agent user passes through to its workspace but cannot
 * list the others) when missing; refused when it is not a directory of the runner's that
 * only the runner can write (it lies in a world-writable /tmp, where anyone could have made it).
 */
function ensurePassableDir(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o711 });
    chmodSync(dir, 0o711);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0)
    throw new GastownError(
      'gastown_config',
      `${dir} is not a directory only this runner's user can write: refusing to put workspaces there`,
    );
  for (let up = dir; ; up = path.dirname(up)) {
    if ((statSync(up).mode & 0o001) === 0)
      throw new GastownError(
        'gastown_config',
        `the agent user cannot pass through ${up} to reach its workspace: choose a workspace directory outside it (TMPDIR)`,
      );
    if (up === path.dirname(up)) break;
  }
}

/** `chmod go-rwx` of a path the agent must not read (symlinks followed: the runner's own paths). */
async function makePrivate(p: string): Promise<void> {
  const st = await stat(p).catch(() => null);
  if (st && (st.mode & 0o077) !== 0) await chmod(p, st.mode & 0o7700);
}
