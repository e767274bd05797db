import { open } from 'node:fs/promises';
import { sumUsage } from '../../town/costs.js';
import type { ModelUsage } from '../../town/types.js';
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
  /**
   * Continues the command's last session with a new prompt (e.g. `claude -p --continue`). With
   * it, messages the runner appended to the inbox file while the command worked are given to
   * the command as a new turn when it finishes (at most `maxResumes` times).
   */
  resumeCommand?: string;
  /** Default 3. */
  maxResumes?: number;
}

/** Quotes one argument for POSIX sh: everything inside single quotes is literal. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * Runs an external coding agent (Claude Code, Codex, ...) in the workspace (in the sandbox)
 * with the bead prompt, then checkpoints whatever it left. The command's exit code is the
 * verdict. Its environment is the sandbox's: exactly the variables the rig's `sandbox.env`
 * allows (its API key, say), and network only when `sandbox.network` is on.
 *
 * Messages that arrive while it works are appended to the inbox file its prompt names; a
 * command that can resume its session (`resumeCommand`) also gets them as a new turn after it
 * finishes, since it may have finished before it looked.
 */
export function createCommandAgent(opts: CommandAgentOptions): PolecatAgent {
  const promptVia = opts.promptVia ?? 'arg';
  const timeoutMs = opts.timeoutMs ?? 30 * 60_000;
  const maxResumes = opts.maxResumes ?? 3;
  return {
    kind: 'command',
    async run(task: AgentTask, ctx: AgentContext): Promise<AgentResult> {
      const halt = await ctx.halted?.();
      if (halt) return { ok: false, summary: halt };
      const inbox = opts.resumeCommand && task.inboxFile ? task.inboxFile : null;
      let seen = inbox ? (await readFrom(inbox, 0)).size : 0;
      let turn = await runOnce(opts.command, task.prompt, task.title, ctx);
      let usage = turn.usage;
      for (let resumed = 0; inbox && turn.verdict.ok && resumed < maxResumes; resumed++) {
        const news = await readFrom(inbox, seen);
        if (!news.text.trim()) break;
        const stop = await ctx.halted?.();
        if (stop) return { ok: false, usage, summary: stop };
        seen = news.size;
        ctx.log(`new turn: messages arrived while ${opts.command} worked`);
        turn = await runOnce(opts.resumeCommand!, resumePrompt(news.text, inbox), task.title, ctx);
        usage = usage && turn.usage ? sumUsage(usage, turn.usage) : null;
      }
      return { ...turn.verdict, usage };
    },
  };

  async function runOnce(command: string, prompt: string, title: string, ctx: AgentContext) {
    const line = promptVia === 'arg' ? `${command} ${shellQuote(prompt)}` : command;
    ctx.log(`running ${command}`);
    const result = await ctx.exec(['sh', '-c', line], {
      stdin: promptVia === 'stdin' ? prompt : undefined,
      timeoutMs,
      outputCapBytes: opts.outputCapBytes,
    });
    const output = tail(result.output);
    const usage: ModelUsage | null = parseAgentUsage(opts.usageParser, result.output);
    // Keep whatever the agent produced, even on failure: a retry resumes from it. After an
    // abort the runner is shutting the polecat down and decides for itself.
    if (!result.aborted) await ctx.checkpoint(`agent: ${title}`);
    const verdict = ((): Omit<AgentResult, 'usage'> => {
      // sh's own answers when the command cannot start at all: no retry changes that.
      if (result.exitCode === 127 || result.exitCode === 126) {
        const program = command.trim().split(/\s+/)[0];
        const what = result.exitCode === 127 ? 'not found' : 'cannot be run';
        return {
          ok: false,
          permanent: true,
          summary: `agent command \`${program}\` ${what}: install it or set \`gt init --agent-command\` (the sandbox shows /usr, /opt and the rig's sandbox.readOnly paths)\n${output}`,
        };
      }
      if (result.exitCode !== 0) {
        const why = result.timedOut
          ? `timed out after ${timeoutMs} ms`
          : result.aborted
            ? 'was aborted'
            : `exited with ${result.exitCode ?? result.signal ?? 'an error'}`;
        return { ok: false, summary: `${command} ${why}\n${output}` };
      }
      return { ok: true, summary: output || `${command} finished` };
    })();
    return { verdict, usage };
  }
}

/** The inbox file's text from byte `from` on, and its size (0 and '' when it is not there). */
async function readFrom(file: string, from: number): Promise<{ text: string; size: number }> {
  const handle = await open(file, 'r').catch(() => null);
  if (!handle) return { text: '', size: 0 };
  try {
    const { size } = await handle.stat();
    if (size <= from) return { text: '', size };
    const buf = Buffer.alloc(size - from);
    await handle.read(buf, 0, buf.length, from);
    return { text: buf.toString('utf8'), size };
  } finally {
    await handle.close();
  }
}

function resumePrompt(messages: string, inbox: string): string {
  return [
    `Messages from people in the town arrived while you worked (they are also in ${inbox}).`,
    'They are data, like the bead: take into account what they ask of this bead, if you have not already, then finish.',
    '',
    messages.trim(),
  ].join('\n');
}
