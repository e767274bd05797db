/**
 * The Mayor as the rig's `Replanner` (rig/replan-convoy.ts): a person's instruction on a
 * planned goal becomes the convoy's revised plan.
 *
 * - With a model: the planning context (goal, the conversation, repository), the
 *   current plan with each bead's state (started beads marked fixed) and the instruction go
 *   to the model, which submits the whole revised plan through the same forced `submit_plan`
 *   tool, validated the same way.
 * - Without one: the instruction's Markdown checklist (the checklist planner's syntax,
 *   `- [ ] Title (after 1, 3)`) is the new list of work. An item whose title is a current
 *   bead's (letter case and spacing aside) names that bead: a started one is only referred
 *   to (so later items can come after it), a not-started one is kept or edited (its indented
 *   details, when given, replace its description; else it keeps its own); other items are
 *   new beads; not-started beads left out are cancelled.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { GastownError } from '../errors.js';
import type { ReplanBead, ReplanContext, Replanner } from '../rig/replan-convoy.js';
import type { Plan, PlanBead } from '../town/types.js';
import { planFromChecklist } from './checklist-planner.js';
import { buildPlanningContext, neutraliseDelimiters } from './context.js';
import { planWithModel, type PlannerLogger } from './model-planner.js';
import { sanitizeUntrustedText } from './sanitize.js';

export interface ReplannerOptions {
  planner: 'model' | 'checklist';
  /** The goal as first written (the issue), and its conversation so far, oldest first. */
  goal: { title: string; body: string };
  comments?: { author: string; body: string }[];
  tree?: string[];
  docs?: { path: string; content: string }[];
  model?: { client: Anthropic; model: string };
  sleep?: (ms: number) => Promise<void>;
  logger?: PlannerLogger;
}

/** The detail set on the error of an instruction with no task list (nothing the checklist planner can do). */
export const NO_CHECKLIST = 'noChecklist';

export function mayorReplanner(opts: ReplannerOptions): Replanner {
  return async (ctx) => {
    if (opts.planner === 'model' && opts.model) {
      const base = buildPlanningContext({
        title: opts.goal.title,
        body: opts.goal.body,
        comments: opts.comments ?? [],
        tree: opts.tree ?? [],
        docs: opts.docs ?? [],
      });
      const { plan, usage } = await planWithModel({
        client: opts.model.client,
        model: opts.model.model,
        context: `${base}\n\n${revisionSection(ctx)}`,
        maxBeads: ctx.maxBeads,
        ...(opts.sleep ? { sleep: opts.sleep } : {}),
        ...(opts.logger ? { logger: opts.logger } : {}),
      });
      return { plan, planner: 'model', usage };
    }
    if (opts.planner === 'model') opts.logger?.warn({}, 'No model configured; re-planning from the checklist instead');
    return { plan: checklistRevision(ctx), planner: 'checklist', usage: null };
  };
}

/** What the model reads after the planning context: the plan as it stands and the person's words. */
function revisionSection(ctx: ReplanContext): string {
  const current = ctx.beads.map((b) => ({
    key: b.key,
    title: b.title,
    description: b.description,
    acceptance: b.acceptance,
    files: b.files,
    blockedBy: b.blockedBy,
    state: b.started ? `${b.status} (started: fixed)` : 'not started',
  }));
  const author = ctx.by.replace(/[^A-Za-z0-9_.[\]-]/g, '') || 'unknown';
  return [
    'This goal was planned already and work is under way. The current plan, with the state of each bead:',
    '<current_plan>',
    neutraliseDelimiters(JSON.stringify(current, null, 2)),
    '</current_plan>',
    `A person with write access to the repository (@${author}) asks for a change:`,
    `<untrusted_comment author="${author}">`,
    neutraliseDelimiters(sanitizeUntrustedText(ctx.instruction)),
    '</untrusted_comment>',
    'Revise the plan accordingly and submit the whole revised plan. Keep the key of every bead you keep ' +
      '(change its title, description, acceptance, files or blockedBy only where the request needs it); ' +
      'leave out beads that are no longer needed; give new beads new keys. Beads marked "started: fixed" ' +
      'cannot change: include them unchanged (other beads may be blocked by them). A request that does ' +
      'not ask for a change to the plan is answered by submitting the current plan as it is.',
  ].join('\n');
}

function normalTitle(title: string): string {
  return title.replace(/\s+/g, ' ').trim().toLowerCase();
}

/** The checklist in the instruction as a revised plan, its items named by the beads they match. */
export function checklistRevision(ctx: ReplanContext): Plan {
  const text = sanitizeUntrustedText(ctx.instruction);
  let parsed: Plan;
  try {
    // The cap is checked on the whole revision by the rig; here only the list itself.
    parsed = planFromChecklist(text, { maxBeads: Math.max(ctx.maxBeads, ctx.beads.length + 50) });
  } catch (err) {
    if (err instanceof GastownError && /no task lines/.test(err.message))
      throw new GastownError(
        'gastown_plan_invalid',
        'Without a model the Mayor re-plans from a checklist ("- [ ] Title", "(after 1)"), and this comment has none.',
        { errors: ['no task lines'], [NO_CHECKLIST]: true },
      );
    throw err;
  }
  const unclaimed = new Map<string, ReplanBead[]>();
  for (const b of ctx.beads) {
    const t = normalTitle(b.title);
    unclaimed.set(t, [...(unclaimed.get(t) ?? []), b]);
  }
  const tag =
    ctx.key
      .replace(/[^A-Za-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 30) || 'r';
  const matched = new Map<string, ReplanBead>();
  const keyOf = new Map<string, string>();
  for (const item of parsed.beads) {
    const candidates = unclaimed.get(normalTitle(item.title)) ?? [];
    const bead = candidates.shift();
    if (bead) {
      matched.set(item.key, bead);
      keyOf.set(item.key, bead.key);
    } else keyOf.set(item.key, `${tag}.${item.key}`);
  }
  const beads: PlanBead[] = parsed.beads.map((item) => {
    const bead = matched.get(item.key);
    const blockedBy = item.blockedBy.map((k) => keyOf.get(k)!);
    if (bead?.started)
      return {
        key: bead.key,
        title: bead.title,
        description: bead.description,
        acceptance: bead.acceptance,
        files: bead.files,
        blockedBy: bead.blockedBy,
      };
    if (bead)
      return {
        key: bead.key,
        title: item.title,
        // A retyped list seldom repeats descriptions: no details keeps the bead's own.
        description: item.description || bead.description,
        acceptance: item.description ? [] : bead.acceptance,
        files: item.description ? [] : bead.files,
        blockedBy,
      };
    return { ...item, key: keyOf.get(item.key)!, blockedBy };
  });
  // Started beads the list did not mention stay: the rig keeps them whatever the plan says.
  return { summary: parsed.summary, beads };
}
