import type Anthropic from '@anthropic-ai/sdk';

import type { ModelUsage, Plan } from '../town/types.js';
import { planFromChecklist } from './checklist-planner.js';
import { buildPlanningContext } from './context.js';
import { planWithModel, type PlannerLogger } from './model-planner.js';
import { sanitizeUntrustedText } from './sanitize.js';

export interface PlanGoalOptions {
  planner: 'model' | 'checklist';
  title: string;
  body: string;
  comments?: { author: string; body: string }[];
  tree?: string[];
  docs?: { path: string; content: string }[];
  maxBeads: number;
  /** Budget for the model's planning context, in estimated tokens (see buildPlanningContext). */
  tokenBudget?: number;
  /** Without it the model planner cannot run and the checklist planner is used. */
  model?: { client: Anthropic; model: string };
  sleep?: (ms: number) => Promise<void>;
  logger?: PlannerLogger;
}

export interface PlanGoalResult {
  plan: Plan;
  /** The planner that actually produced the plan. */
  planner: 'model' | 'checklist';
  usage: ModelUsage | null;
}

/**
 * The Mayor's one entry point for planning a goal: the model planner when it is asked for
 * and a model is configured, otherwise the checklist in the (sanitised) goal text.
 */
export async function planGoal(opts: PlanGoalOptions): Promise<PlanGoalResult> {
  if (opts.planner === 'model' && opts.model) {
    const context = buildPlanningContext({
      title: opts.title,
      body: opts.body,
      comments: opts.comments ?? [],
      tree: opts.tree ?? [],
      docs: opts.docs ?? [],
      ...(opts.tokenBudget !== undefined ? { tokenBudget: opts.tokenBudget } : {}),
    });
    const { plan, usage } = await planWithModel({
      client: opts.model.client,
      model: opts.model.model,
      context,
      maxBeads: opts.maxBeads,
      ...(opts.sleep ? { sleep: opts.sleep } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    return { plan, planner: 'model', usage };
  }

  if (opts.planner === 'model') {
    opts.logger?.warn({}, 'No model configured; planning from the checklist instead');
  }
  // Hidden text must not become a bead either: a `- [ ]` inside an HTML comment is not a task.
  const plan = planFromChecklist(sanitizeUntrustedText(opts.body), {
    maxBeads: opts.maxBeads,
    title: sanitizeUntrustedText(opts.title),
  });
  return { plan, planner: 'checklist', usage: null };
}
