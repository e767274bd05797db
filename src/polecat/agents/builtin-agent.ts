import { realpath } from 'node:fs/promises';
import type Anthropic from '@anthropic-ai/sdk';
import { GastownError } from '../../errors.js';
import { addUsage, emptyUsage, toModelUsage } from '../../model/pricing.js';
import type { AgentContext, AgentResult, AgentTask, InboxMessage, PolecatAgent } from './agent.js';
import { BUILTIN_TOOLS, runBuiltinTool } from './builtin-tools.js';

export interface BuiltinAgentOptions {
  client: Anthropic;
  model: string;
  /** Model calls allowed for one bead. */
  maxTurns: number;
  /** Input + output tokens allowed for one bead, summed over all calls. */
  tokenBudget: number;
  /** Per run_command call. Default 2 minutes. */
  commandTimeoutMs?: number;
  /** Cap on what one tool returns to the model. Default 32 KiB. */
  outputCapBytes?: number;
  /** max_tokens per model call. Default 8192. */
  maxTokensPerTurn?: number;
}

const SYSTEM = [
  'You are a Gas Town polecat: a coding agent working alone in a git workspace on one bead (a small unit of work).',
  'Use the tools to inspect and change files and to run commands such as tests. Paths are relative to the workspace root.',
  'Never commit, push, or change git configuration: the runner commits your work after each turn.',
  'Messages marked [nudge from X] or [mail from X] come from people or agents in the town; take them into account.',
  'When the work is done (or you are stuck), call finish with a short summary.',
].join('\n');

/**
 * The built-in agent: an Anthropic tool-use loop.
 * 1. send the bead prompt with the tools; 2. run every tool_use of the reply and answer with
 * tool_results; 3. checkpoint if the turn changed files; 4. stop on finish, on maxTurns, on the
 * token budget or on abort; 5. otherwise add unread mail and nudges to the next user turn.
 */
export function createBuiltinAgent(opts: BuiltinAgentOptions): PolecatAgent {
  const commandTimeoutMs = opts.commandTimeoutMs ?? 120_000;
  const outputCapBytes = opts.outputCapBytes ?? 32 * 1024;
  const maxTokens = opts.maxTokensPerTurn ?? 8192;

  return {
    kind: 'builtin',
    hearsBetweenTurns: true,
    toolsInRunner: true,
    async run(task: AgentTask, ctx: AgentContext): Promise<AgentResult> {
      // The model's calls run here, in the runner; its tools run on the workspace: the file
      // tools in-process (confined by safe-path.ts), run_command in the sandbox.
      const workspace = await realpath(task.workspace);
      const toolCtx = { workspace, exec: ctx.exec, commandTimeoutMs, outputCapBytes };
      let usage = emptyUsage();
      const done = (ok: boolean, summary: string): AgentResult => ({ ok, summary, usage });
      const messages: Anthropic.MessageParam[] = [{ role: 'user', content: task.prompt }];

      for (let turn = 1; turn <= opts.maxTurns; turn++) {
        if (ctx.signal.aborted) return done(false, `aborted before turn ${turn}`);
        const halt = await ctx.halted?.();
        if (halt) return done(false, `${halt} before turn ${turn}`);
        let reply: Anthropic.Message;
        try {
          reply = await opts.client.messages.create(
            { model: opts.model, max_tokens: maxTokens, system: SYSTEM, tools: BUILTIN_TOOLS, messages },
            { signal: ctx.signal },
          );
        } catch (err) {
          if (ctx.signal.aborted) return done(false, `aborted during turn ${turn}`);
          throw new GastownError(
            'gastown_agent',
            `model call failed on turn ${turn}: ${(err as Error).message}`,
            { turn, model: opts.model },
            { cause: err },
          );
        }
        usage = addUsage(usage, toModelUsage(reply.usage, opts.model));
        await ctx.reportUsage?.(usage);
        messages.push({ role: 'assistant', content: reply.content as Anthropic.ContentBlockParam[] });

        const results: Anthropic.ToolResultBlockParam[] = [];
        let wrote = false;
        let ranCommand = false;
        let finishSummary: string | undefined;
        for (const block of reply.content) {
          if (block.type !== 'tool_use') continue;
          ctx.log(`turn ${turn}: ${block.name}`);
          const outcome = await runBuiltinTool(block.name, block.input, toolCtx);
          wrote ||= outcome.wrote;
          ranCommand ||= outcome.ranCommand;
          if (outcome.finishSummary !== undefined) finishSummary = outcome.finishSummary;
          results.push({ type: 'tool_result', tool_use_id: block.id, content: outcome.content, is_error: outcome.isError });
        }

        // A checkpoint with nothing new commits nothing and pushes nothing.
        if (wrote || ranCommand) await ctx.checkpoint(`turn ${turn}: ${task.title}`);
        if (finishSummary !== undefined) return done(true, finishSummary);

        const used = usage.inputTokens + usage.outputTokens;
        if (used > opts.tokenBudget) {
          return done(false, `token budget exceeded: ${used} tokens used of ${opts.tokenBudget} after ${turn} turn(s) without finishing`);
        }

        const next: Anthropic.ContentBlockParam[] = [...results];
        if (results.length === 0) {
          // The model answered in prose only: remind it how the loop ends instead of guessing.
          next.push({ type: 'text', text: 'Continue with the tools, and call finish when the bead is done.' });
        }
        const inbox = await ctx.readInbox();
        if (inbox.length > 0) next.push({ type: 'text', text: inbox.map(formatInbox).join('\n') });
        messages.push({ role: 'user', content: next });
      }
      return done(false, `stopped after maxTurns (${opts.maxTurns}) without the model calling finish`);
    },
  };
}

export function formatInbox(msg: InboxMessage): string {
  return msg.kind === 'nudge' ? `[nudge from ${msg.from}] ${msg.body}` : `[mail from ${msg.from}] ${msg.subject}: ${msg.body}`;
}
