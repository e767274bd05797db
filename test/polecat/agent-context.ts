import { checkpoint } from '../../src/polecat/checkpoint.js';
import type { AgentContext, InboxMessage } from '../../src/polecat/agents/agent.js';

/** An AgentContext whose checkpoints really commit in the worktree and are recorded. */
export function recordingContext(
  worktree: string,
  opts: { inbox?: InboxMessage[][]; signal?: AbortSignal; commit?: boolean } = {},
): AgentContext & { checkpoints: string[]; logs: string[]; inboxReads: number } {
  const queue = [...(opts.inbox ?? [])];
  const ctx = {
    checkpoints: [] as string[],
    logs: [] as string[],
    inboxReads: 0,
    signal: opts.signal ?? new AbortController().signal,
    async checkpoint(message: string): Promise<void> {
      ctx.checkpoints.push(message);
      if (opts.commit !== false) await checkpoint({ worktree, message });
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
