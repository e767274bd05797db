import { tail } from '../run-process.js';
import { parseAgentUsage, type UsageParser } from './usage-parsers.js';
import type { AgentContext, AgentResult, AgentTask, PolecatAgent } from './agent.js';

export interface CommandAgentOptions {
  /** A shell command line, e.g. 'claude -p' or 'codex exec'. */
  command: string;
  /** 'arg' (default) appends the prompt as one quoted argument; 'stdin' writes it to stdin. */
  promptVia?: 'arg' | 'stdin';
  /** Default 30 minutes. */
  timeoutMs?: number;
  /** Output kept for the summary. Default 64 KiB. */
  outputCapBytes?: number;
  /** How to read the run's usage from its output; without one the run's cost is recorded as unknown. */
  usageParser?: UsageParser;
}

/** Quotes one argument for POSIX sh: everything inside single quotes is literal. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * Runs an external coding agent (Claude Code, Codex, ...) once in the workspace (in the
 * sandbox) with the bead prompt, then checkpoints whatever it left. The command's exit code
 * is the verdict. Its environment is the sandbox's: exactly the variables the rig's
 * `sandbox.env` allows (its API key, say), and network only when `sandbox.network` is on.
 */
export function createCommandAgent(opts: CommandAgentOptions): PolecatAgent {
  const promptVia = opts.promptVia ?? 'arg';
  const timeoutMs = opts.timeoutMs ?? 30 * 60_000;
  return {
    kind: 'command',
    async run(task: AgentTask, ctx: AgentContext): Promise<AgentResult> {
      const halt = await ctx.halted?.();
      if (halt) return { ok: false, summary: halt };
      const line = promptVia === 'arg' ? `${opts.command} ${shellQuote(task.prompt)}` : opts.command;
      ctx.log(`running ${opts.command}`);
      const result = await ctx.exec(['sh', '-c', line], {
        stdin: promptVia === 'stdin' ? task.prompt : undefined,
        timeoutMs,
        outputCapBytes: opts.outputCapBytes,
      });
      const output = tail(result.output);
      const usage = parseAgentUsage(opts.usageParser, result.output);
      // Keep whatever the agent produced, even on failure: a retry resumes from it. After an
      // abort the runner is shutting the polecat down and decides for itself.
      if (!result.aborted) await ctx.checkpoint(`agent: ${task.title}`);
      // sh's own answers when the command cannot start at all: no retry changes that.
      if (result.exitCode === 127 || result.exitCode === 126) {
        const program = opts.command.trim().split(/\s+/)[0];
        const what = result.exitCode === 127 ? 'not found' : 'cannot be run';
        return {
          ok: false,
          permanent: true,
          usage,
          summary: `agent command \`${program}\` ${what}: install it or set \`gt init --agent-command\` (the sandbox shows /usr, /opt and the rig's sandbox.readOnly paths)\n${output}`,
        };
      }
      if (result.exitCode !== 0) {
        const why = result.timedOut
          ? `timed out after ${timeoutMs} ms`
          : result.aborted
            ? 'was aborted'
            : `exited with ${result.exitCode ?? result.signal ?? 'an error'}`;
        return { ok: false, usage, summary: `${opts.command} ${why}\n${output}` };
      }
      return { ok: true, usage, summary: output || `${opts.command} finished` };
    },
  };
}
