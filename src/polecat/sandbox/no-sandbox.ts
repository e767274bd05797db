import type { Sandbox } from './sandbox.js';

/**
 * No isolation: the command runs as the runner's user in the workspace, with the sandbox's
 * environment (the allow-list) but everything else of the machine in reach: the rig, the
 * remote, the runner's /proc/<pid>/environ, the network. Only with an explicit
 * `--no-sandbox`, which prints a warning; the runner's ref check after the agent (see
 * ref-tripwire.ts) is then the only guard, and it can only report damage, not prevent it.
 */
export function createNoSandbox(): Sandbox {
  return {
    name: 'none',
    isFallback: false,
    runsInRigWorktrees: true,
    runnerToolsSafe: true,
    describe: 'none (--no-sandbox: agents run unsandboxed)',
    command: (argv, spec) => ({ file: argv[0]!, args: argv.slice(1), cwd: spec.workspace, env: spec.env }),
  };
}
