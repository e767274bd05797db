import { runProcess, type RunProcessOptions, type RunProcessResult } from '../run-process.js';

/** What one polecat's sandbox holds; the same for every command of one bead. */
export interface SandboxSpec {
  /** The agent's own clone: the one writable directory it sees, and where commands run. */
  workspace: string;
  /** The polecat's private HOME (writable, kept for the bead, outside the workspace). */
  home: string;
  /** The complete environment of the command (see sandboxEnv): nothing is inherited. */
  env: Record<string, string>;
  /** Network access; without it the sandbox has its own network namespace (loopback only). */
  network: boolean;
  /** Host paths made visible read-only at the same path (the hooks directory, toolchains). */
  readOnly: string[];
  /**
   * Host paths that must not be visible even where they lie under a system directory the
   * sandbox shows read-only: the rig's clone and git directory, a local remote, the runner's
   * HOME.
   */
  hide: string[];
}

/** A command line ready to spawn: in the sandbox (bwrap) or as it is (none). */
export interface SandboxCommand {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

/**
 * Where an agent's processes run. `bwrap`: bubblewrap namespaces (see bwrap-sandbox.ts);
 * `user`: a separate unprivileged user, where namespaces are not allowed (user-sandbox.ts);
 * `none`: no isolation at all, only with an explicit `--no-sandbox`.
 */
export interface Sandbox {
  /** A label for people (logs, tests); callers ask the capabilities below, never the name. */
  readonly name: 'bwrap' | 'user' | 'none';
  /**
   * A fallback weaker than bubblewrap: `describe` then names what it leaves open, and the
   * runner and `gt doctor` say so every time it is used.
   */
  readonly isFallback: boolean;
  /**
   * Whether a command may run in a directory the sandbox did not prepare as a workspace
   * (the local Refinery's gate runs in a worktree of the rig). The user sandbox cannot: its
   * user reaches only its own workspaces.
   */
  readonly runsInRigWorktrees: boolean;
  /**
   * Whether the runner's own file tools (the built-in agent's, which run as the runner) are
   * safe beside the agent's commands. Not where a process the agent left running could swap
   * a directory for a symlink between the runner's check and its write (the user sandbox:
   * its processes outlive their command, and the runner is root). bwrap leaves no process;
   * with no sandbox there is no boundary to cross.
   */
  readonly runnerToolsSafe: boolean;
  /** One line for logs and `gt doctor`: what runs agents and how (and what it does not cover). */
  readonly describe: string;
  /**
   * Where this sandbox needs a rig's polecat workspaces (the user sandbox: somewhere its
   * user can reach, outside the rig). Without it: `<git dir>/gastown/workspaces`.
   */
  workspaceRoot?(gitDir: string): string;
  /** Run before each command: makes the workspace the sandbox's (the user sandbox's ownership). */
  prepare?(spec: SandboxSpec): Promise<void>;
  command(argv: string[], spec: SandboxSpec): SandboxCommand;
}

export type SandboxRunOptions = Omit<RunProcessOptions, 'cwd' | 'env'>;

/** Runs `argv` in the sandbox; resolves like runProcess (never rejects on an exit code). */
export async function runInSandbox(
  sandbox: Sandbox,
  spec: SandboxSpec,
  argv: string[],
  opts: SandboxRunOptions = {},
): Promise<RunProcessResult> {
  if (sandbox.prepare) await sandbox.prepare(spec);
  const cmd = sandbox.command(argv, spec);
  return runProcess(cmd.file, cmd.args, { ...opts, cwd: cmd.cwd, env: cmd.env });
}
