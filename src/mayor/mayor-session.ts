import type Anthropic from '@anthropic-ai/sdk';
import { z } from 'zod';
import { isGastownError } from '../errors.js';
import { addUsage, emptyUsage, toModelUsage } from '../model/pricing.js';
import { randomHex } from '../random-hex.js';
import type { ConversationEntry, ConversationStore } from '../rig/mayor-conversation.js';
import type { RepoReader } from '../rig/repo-reader.js';
import type { TownService } from '../rig/town-service.js';
import { validatePlan } from '../town/plan.js';
import type { ModelUsage, Plan } from '../town/types.js';
import { MAYOR_ATTACH_PROMPT, mayorTools } from './mayor-tools.js';
import { PlanSchema } from './plan-schema.js';
import { planTree } from './plan-tree.js';
import { budgetText } from '../town/costs.js';
import { sanitizeUntrustedText } from './sanitize.js';

export interface MayorPorts {
  model: { client: Anthropic; model: string };
  town: Pick<TownService, 'status' | 'inbox' | 'sendMail' | 'recordPlan' | 'dispatchReady'>;
  repo: RepoReader;
  store: ConversationStore;
  /** The person at the terminal (their login or crew name). */
  person: string;
  maxBeads: number;
  requireApproval: boolean;
  /** Asks the person yes or no on the terminal: the model's word alone never slings. */
  confirm(question: string): Promise<boolean>;
  say(kind: 'mayor' | 'plan' | 'note', text: string): void;
  now(): Date;
}

type Message = { role: 'user' | 'assistant'; content: string | Anthropic.ContentBlockParam[] };
interface Draft {
  draftId: string;
  revision: number;
  plan: Plan;
}

/** Model calls per thing the person says: a loop of tool calls ends here at the latest. */
const MAX_STEPS = 16;
const MAX_OUTPUT_TOKENS = 8_000;
const FILE_CHARS = 20_000;
export const INTERRUPTED =
  'The session ended before this tool answered (a crash or a kill): it may or may not have run. Tools are safe to call again: sling_plan records a plan once.';

/**
 * One person's conversation with the Mayor: what they say goes to the model with the whole
 * conversation, the model's tool calls run against the town, and every step is appended to
 * the ledger as it happens (`ConversationStore`), so `resume` after a crash, or on another
 * machine after `gt sync`, carries on with the same context and the same draft plan.
 */
export class MayorSession {
  private readonly messages: Message[] = [];
  private draft: Draft | null = null;
  private readonly slung = new Map<string, string>();
  private goal: string | null = null;
  private usage: ModelUsage = emptyUsage();

  private constructor(private readonly ports: MayorPorts) {}

  static async resume(ports: MayorPorts): Promise<MayorSession> {
    const s = new MayorSession(ports);
    for (const e of await ports.store.load()) s.replay(e);
    // Killed between a tool call and its answer: the API needs an answer to every call.
    const last = s.messages.at(-1);
    const pending = last?.role === 'assistant' && Array.isArray(last.content) ? last.content.filter((b) => b.type === 'tool_use') : [];
    if (pending.length)
      await s.record({
        type: 'message',
        at: ports.now().toISOString(),
        role: 'user',
        content: pending.map((b) => ({
          type: 'tool_result',
          tool_use_id: (b as Anthropic.ToolUseBlockParam).id,
          is_error: true,
          content: INTERRUPTED,
        })),
      });
    return s;
  }

  /** How many messages the conversation holds, and its current plan (for the greeting on attach). */
  get length(): number {
    return this.messages.length;
  }
  get currentPlan(): { revision: number; plan: Plan; slungAs: string | null } | null {
    return this.draft ? { ...this.draft, slungAs: this.slung.get(draftKey(this.draft)) ?? null } : null;
  }
  /** The Mayor's last words, to remind a person who comes back. */
  get lastAnswer(): string | null {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const m = this.messages[i]!;
      if (m.role !== 'assistant' || !Array.isArray(m.content)) continue;
      const text = m.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('\n');
      if (text.trim()) return text;
    }
    return null;
  }

  /** The person says something; the Mayor answers, calling tools as it needs. `preface` rides along (mail since last time). */
  async tell(text: string, preface?: string): Promise<void> {
    const content: Message['content'] = preface
      ? [
          { type: 'text', text: preface },
          { type: 'text', text },
        ]
      : text;
    this.goal ??= text;
    await this.record({ type: 'message', at: this.at(), role: 'user', content });
    for (let step = 0; step < MAX_STEPS; step++) {
      const response = await this.ports.model.client.messages.create({
        model: this.ports.model.model,
        max_tokens: MAX_OUTPUT_TOKENS,
        system: [{ type: 'text', text: MAYOR_ATTACH_PROMPT, cache_control: { type: 'ephemeral' } }],
        tools: mayorTools(this.ports.maxBeads),
        messages: apiMessages(this.messages),
      });
      this.usage = addUsage(this.usage, toModelUsage(response.usage, this.ports.model.model));
      const blocks: Anthropic.ContentBlockParam[] = response.content.flatMap((b): Anthropic.ContentBlockParam[] =>
        b.type === 'text'
          ? [{ type: 'text', text: b.text }]
          : b.type === 'tool_use'
            ? [{ type: 'tool_use', id: b.id, name: b.name, input: b.input }]
            : [],
      );
      // The API refuses an empty assistant turn in a later request.
      await this.record({
        type: 'message',
        at: this.at(),
        role: 'assistant',
        content: blocks.length ? blocks : [{ type: 'text', text: '(no answer)' }],
      });
      for (const b of blocks) if (b.type === 'text' && b.text.trim()) this.ports.say('mayor', b.text.trim());
      const uses = blocks.filter((b): b is Anthropic.ToolUseBlockParam => b.type === 'tool_use');
      if (uses.length === 0) return;
      const results: Anthropic.ToolResultBlockParam[] = [];
      for (const u of uses) results.push(await this.runTool(u));
      await this.record({ type: 'message', at: this.at(), role: 'user', content: results });
    }
    this.ports.say('note', `the Mayor took ${MAX_STEPS} steps without finishing; say how to go on`);
  }

  private async runTool(use: Anthropic.ToolUseBlockParam): Promise<Anthropic.ToolResultBlockParam> {
    const answer = (content: string, isError = false): Anthropic.ToolResultBlockParam => ({
      type: 'tool_result',
      tool_use_id: use.id,
      content,
      ...(isError ? { is_error: true } : {}),
    });
    try {
      return answer(await this.tool(use.name, use.input));
    } catch (err) {
      return answer(isGastownError(err) || err instanceof ToolError ? (err as Error).message : `failed: ${(err as Error).message}`, true);
    }
  }

  private async tool(name: string, input: unknown): Promise<string> {
    const p = this.ports;
    switch (name) {
      case 'list_files': {
        const { path } = parse(z.object({ path: z.string().optional() }), input);
        return (await p.repo.list(path ?? '')).join('\n') || '(empty)';
      }
      case 'read_file': {
        const { path } = parse(z.object({ path: z.string().min(1) }), input);
        const { text, truncated } = await p.repo.read(path, FILE_CHARS);
        const safe = sanitizeUntrustedText(text).replace(/<(\/?)(repo_doc|untrusted_)/gi, '&lt;$1$2');
        return `<repo_doc path="${path.replace(/["<>\r\n]/g, '')}">\n${safe}${truncated ? '\n[... truncated]' : ''}\n</repo_doc>`;
      }
      case 'create_plan':
      case 'revise_plan': {
        const plan = checkedPlan(input, p.maxBeads);
        const revising = name === 'revise_plan' && this.draft;
        if (revising && this.slung.has(draftKey(this.draft!)))
          throw new ToolError(
            `revision ${this.draft!.revision} was slung already (convoy ${this.slung.get(draftKey(this.draft!))}): use create_plan for further work`,
          );
        const draft: Draft = revising
          ? { ...this.draft!, revision: this.draft!.revision + 1, plan }
          : { draftId: randomHex(6), revision: 1, plan };
        await this.record({ type: 'draft', at: this.at(), ...draft });
        const tree = planTree(plan, `Plan r${draft.revision}: ${plan.summary.split('\n')[0]}`);
        p.say('plan', tree);
        return `${tree}\n\nThe person sees this tree. Ask whether to sling it or what to change.`;
      }
      case 'show_plan': {
        if (!this.draft) return 'There is no plan yet: create_plan proposes one.';
        const tree = planTree(this.draft.plan, `Plan r${this.draft.revision}: ${this.draft.plan.summary.split('\n')[0]}`);
        p.say('plan', tree);
        return tree;
      }
      case 'sling_plan':
        return this.slingDraft();
      case 'town_status': {
        const s = await p.town.status();
        const convoys = s.convoys
          .slice(0, 10)
          .map((c) => `${c.convoy.id} ${c.convoy.status} ${c.progress.closed}/${c.progress.total} ${c.convoy.title}`);
        const polecats = s.polecats.map((x) => `${x.name}: ${x.bead ? `${x.bead} ${x.status}${x.stale ? ' STALLED' : ''}` : 'idle'}`);
        return [
          `beads: ${s.beads.total} total, ${s.beads.ready} ready, ${s.beads.hooked} hooked, ${s.beads.in_progress} in progress, ${s.beads.in_review} in review, ${s.beads.closed} closed, ${s.beads.failed} failed`,
          `convoys:\n${convoys.join('\n') || '(none)'}`,
          `polecats:\n${polecats.join('\n') || '(none)'}`,
        ].join('\n');
      }
      case 'read_mail': {
        const mail = (await p.town.inbox('mayor')).slice(-20);
        if (!mail.length) return "The Mayor's inbox is empty.";
        return mail.map((m) => mailBlock(m)).join('\n');
      }
      case 'send_mail': {
        const m = parse(
          z.object({ to: z.string().min(1).max(100), subject: z.string().min(1).max(200), body: z.string().max(10_000).optional() }),
          input,
        );
        const sent = await p.town.sendMail('mayor', m.to, m.subject, m.body);
        return `sent ${sent.id} to ${sent.to}`;
      }
      default:
        throw new ToolError(`no tool ${name}`);
    }
  }

  /** Records the draft as a convoy (once per revision: the source key is the draft's) and slings its ready beads. */
  private async slingDraft(): Promise<string> {
    const p = this.ports;
    const draft = this.draft;
    if (!draft) throw new ToolError('There is no plan to sling: create_plan first.');
    const key = draftKey(draft);
    if (!this.slung.has(key)) {
      const yes = await p.confirm(`sling plan r${draft.revision} (${draft.plan.beads.length} beads)? [y/N] `);
      if (!yes) return 'The person declined on the terminal: nothing was slung. Ask what to change.';
    }
    const goal = this.goal ?? draft.plan.summary;
    const recorded = await p.town.recordPlan({
      sourceKey: `mayor:${draft.draftId}:r${draft.revision}`,
      title: titleOf(goal),
      source: { kind: 'local', goal: goal.slice(0, 2000), requestedBy: p.person },
      plan: draft.plan,
      planner: 'model',
      usage: this.usage,
      requireApproval: p.requireApproval,
      maxBeads: p.maxBeads,
    });
    const slung = recorded.convoy.status === 'active' ? await p.town.dispatchReady(p.person) : [];
    if (!this.slung.has(key))
      await this.record({ type: 'slung', at: this.at(), draftId: draft.draftId, revision: draft.revision, convoy: recorded.convoy.id });
    const byBead = new Map(slung.map((s) => [s.bead.id, s.polecat]));
    const keyOf = new Map(recorded.beads.map((b) => [b.id, b.key]));
    const lines = [
      `convoy ${recorded.convoy.id} "${recorded.convoy.title}" ${recorded.convoy.status}: ${recorded.beads.length} beads`,
      ...(recorded.convoy.budget
        ? [`budget: ${budgetText(recorded.convoy.budget)}${recorded.convoy.budgetNote ? ` (clamped: ${recorded.convoy.budgetNote})` : ''}`]
        : []),
      ...recorded.beads.map(
        (b) => `  ${b.id} (${keyOf.get(b.id) ?? ''}) ${byBead.has(b.id) ? `slung to ${byBead.get(b.id)}` : b.status}: ${b.title}`,
      ),
      recorded.convoy.status === 'awaiting_approval'
        ? `it waits for approval: gt convoy approve ${recorded.convoy.id}`
        : 'runners (gt runner) work the slung beads',
    ];
    p.say('note', lines.join('\n'));
    return lines.join('\n');
  }

  private replay(e: ConversationEntry): void {
    if (e.type === 'message') {
      const m = { role: e.role, content: e.content as Message['content'] };
      this.messages.push(m);
      if (this.goal === null && e.role === 'user') this.goal = personText(m.content);
    } else if (e.type === 'draft') this.draft = { draftId: e.draftId, revision: e.revision, plan: e.plan };
    else if (e.type === 'slung') this.slung.set(`${e.draftId}:r${e.revision}`, e.convoy);
  }

  private async record(e: ConversationEntry): Promise<void> {
    await this.ports.store.append([e]);
    this.replay(e);
  }

  private at(): string {
    return this.ports.now().toISOString();
  }
}

class ToolError extends Error {}

function draftKey(d: Draft): string {
  return `${d.draftId}:r${d.revision}`;
}

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (!r.success) throw new ToolError(`bad input: ${r.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}`);
  return r.data;
}

function checkedPlan(input: unknown, maxBeads: number): Plan {
  const parsed = PlanSchema.safeParse(input);
  if (!parsed.success)
    throw new ToolError(
      `The plan was rejected; fix and call again:\n${parsed.error.issues.map((i) => `- ${i.path.join('.') || 'plan'}: ${i.message}`).join('\n')}`,
    );
  const errors = validatePlan(parsed.data, { maxBeads });
  if (errors.length) throw new ToolError(`The plan was rejected; fix and call again:\n${errors.map((e) => `- ${e}`).join('\n')}`);
  return parsed.data;
}

/** Consecutive messages of one role become one (a person's line left unanswered by a crash, then the next). */
function apiMessages(messages: Message[]): Anthropic.MessageParam[] {
  const out: { role: 'user' | 'assistant'; content: Anthropic.ContentBlockParam[] }[] = [];
  for (const m of messages) {
    const blocks: Anthropic.ContentBlockParam[] = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content;
    const last = out.at(-1);
    if (last && last.role === m.role) {
      // Tool results must open a user turn: put them before the text that followed a crash.
      const results = blocks.filter((b) => b.type === 'tool_result');
      last.content = [...results, ...last.content, ...blocks.filter((b) => b.type !== 'tool_result')];
    } else out.push({ role: m.role, content: [...blocks] });
  }
  return out;
}

function personText(content: Message['content']): string {
  if (typeof content === 'string') return content;
  const texts = content.flatMap((b) => (b.type === 'text' ? [b.text] : []));
  return texts.at(-1) ?? '';
}

function titleOf(goal: string): string {
  const line =
    goal
      .split('\n')
      .find((l) => l.trim())
      ?.trim() ?? 'Goal';
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

/** A message from someone else, fenced as data for the model. */
export function mailBlock(m: { id: string; from: string; subject: string; body: string; createdAt: string }): string {
  const clean = (s: string) => sanitizeUntrustedText(s).replace(/<(\/?)untrusted_/gi, '&lt;$1untrusted_');
  return `<untrusted_mail id="${m.id}" from="${m.from.replace(/[^A-Za-z0-9_.@-]/g, '')}" at="${m.createdAt}">\nsubject: ${clean(m.subject)}\n${clean(m.body).slice(0, 2000)}\n</untrusted_mail>`;
}
