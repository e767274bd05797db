import { checkpoint } from '../../src/polecat/checkpoint.js';
import type { AgentContext, InboxMessage } from '../../src/polecat/agents/agent.js';
import { requireSandbox } from '../../src/polecat/sandbox/detect-sandbox.js';
import { runInSandbox, type Sandbox, type SandboxSpec } from '../../src/polecat/sandbox/sandbox.js';
import { sandboxEnv } from '../../src/polecat/sandbox/sandbox-env.js';
import type { PolecatWorkspace } from '../../src/polecat/workspace.js';
import { HOOKS_DIR, NUX, type Rig } from './git-fixture.js';

/** The sandbox a runner would give nux in this workspace (real bubblewrap). */
export async function sandboxFor(
  rig: Rig,
  ws: PolecatWorkspace,
  opts: { allow?: string[]; network?: boolean; readOnly?: string[] } = {},
): Promise<{ sandbox: Sandbox; spec: SandboxSpec }> {
  const sandbox = await requireSandbox();
  const spec: SandboxSpec = {
    workspace: ws.path,
    home: ws.home,
    env: sandboxEnv({
      source: process.env,
      allow: opts.allow ?? [],
      home: ws.home,
      extra: { GASTOWN_BEAD: 'gt-abcd', GASTOWN_POLECAT: 'nux' },
    }),
    network: opts.network ?? false,
    readOnly: [HOOKS_DIR, ...(opts.readOnly ?? [])],
    hide: [rig.clone, rig.remote, process.env.HOME ?? '/root'],
  };
  return { sandbox, spec };
}

/**
 * An AgentContext whose commands run in the real sandbox and whose checkpoints really
 * commit in the workspace and collect into the rig's polecat/nux/gt-abcd; all are recorded.
 */
export async function recordingContext(
  rig: Rig,
  ws: PolecatWorkspace,
  opts: { inbox?: InboxMessage[][]; signal?: AbortSignal; commit?: boolean; allow?: string[]; readOnly?: string[] } = {},
): Promise<AgentContext & { checkpoints: string[]; logs: string[]; inboxReads: number }> {
  const queue = [...(opts.inbox ?? [])];
  const { sandbox, spec } = await sandboxFor(rig, ws, { allow: opts.allow, readOnly: opts.readOnly });
  let tip = ws.start;
  const signal = opts.signal ?? new AbortController().signal;
  const ctx = {
    checkpoints: [] as string[],
    logs: [] as string[],
    inboxReads: 0,
    signal,
    exec: (argv: string[], o = {}) => runInSandbox(sandbox, spec, argv, { ...o, signal }),
    async checkpoint(message: string): Promise<void> {
      ctx.checkpoints.push(message);
      if (opts.commit === false) return;
      const known = [...new Set([ws.start, tip])];
      tip = (
        await checkpoint({
          sandbox,
          spec,
          rigDir: rig.clone,
          branch: ws.branch,
          known,
          message,
          identity: NUX,
          trailers: { 'Gastown-Bead': 'gt-abcd' },
          scratchDir: ws.dir,
        })
      ).tip;
    },
    async readInbox(): Promise<InboxMessage[]> {
      ctx.inboxReads += 1;
      return queue.shift() ?? [];
    },
    log(line: string): void {
      ctx.logs.push(line);
    },
  };
  return ctx;
}
