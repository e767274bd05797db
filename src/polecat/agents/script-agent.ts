import { tail } from '../run-process.js';
import type { AgentContext, AgentResult, AgentTask, PolecatAgent } from './agent.js';
import { shellBlocks } from './shell-blocks.js';

export interface ScriptAgentOptions {
  /** Per step; a step that runs longer is killed (with its children) and fails. Default 10 minutes. */
  stepTimeoutMs?: number;
}

/**
 * The deterministic agent: runs the bead body's fenced shell blocks in order with
 * `bash -e` in the workspace (in the sandbox), checkpointing after each step. No model
 * involved, so CI and the demo get the same result every time.
 */
export function createScriptAgent(opts: ScriptAgentOptions = {}): PolecatAgent {
  const stepTimeoutMs = opts.stepTimeoutMs ?? 10 * 60_000;
  return {
    kind: 'script',
    async run(task: AgentTask, ctx: AgentContext): Promise<AgentResult> {
      const steps = shellBlocks(task.body);
      if (steps.length === 0) {
        return {
          ok: false,
          permanent: true,
          summary:
            `bead ${task.beadId} has no fenced sh/bash/shell blocks, so the script agent has nothing to run: add one to its body, ` +
            'or give the rig an agent that reads prose (gt init --agent-command "claude -p", or --agent builtin)',
        };
      }
      for (const [index, script] of steps.entries()) {
        const n = index + 1;
        const firstLine =
          script
            .split('\n')
            .find((l) => l.trim() !== '')
            ?.trim() ?? '';
        ctx.log(`step ${n}/${steps.length}: ${firstLine}`);
        const result = await ctx.exec(['bash', '-e', '-c', script], { timeoutMs: stepTimeoutMs });
        if (result.exitCode !== 0) {
          const why = result.timedOut
            ? `timed out after ${stepTimeoutMs} ms`
            : result.aborted
              ? 'was aborted'
              : `exited with ${result.exitCode ?? result.signal ?? 'an error'}`;
          return { ok: false, summary: `step ${n} (${firstLine}) ${why}\n${tail(result.output)}` };
        }
        await ctx.checkpoint(`step ${n}: ${firstLine}`);
      }
      return { ok: true, summary: `ran ${steps.length} step${steps.length === 1 ? '' : 's'}` };
    },
  };
}
