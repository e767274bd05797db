/**
 * The real Mayor behind `PlanIssueDeps.mayor`: `planGoal` with the Anthropic model when one
 * is configured (ANTHROPIC_API_KEY) and the repo config asks for it, otherwise the
 * checklist planner.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { Logger } from 'pino';
import { planGoal } from '../mayor/plan-goal.js';
import type { Mayor, MayorInput, MayorResult } from './plan-issue-deps.js';

export interface MayorOptions {
  /** From `anthropicFromEnv(env)`; null plans from the checklist. */
  model: { client: Anthropic } | null;
  log?: Logger;
  sleep?: (ms: number) => Promise<void>;
}

export function createMayor(options: MayorOptions): Mayor {
  return {
    async plan(input: MayorInput): Promise<MayorResult> {
      const result = await planGoal({
        planner: input.planner,
        title: input.goal.title,
        body: input.goal.body,
        comments: input.comments,
        tree: input.tree,
        docs: input.docs.map((d) => ({ path: d.path, content: d.excerpt })),
        maxBeads: input.maxBeads,
        ...(options.model ? { model: { client: options.model.client, model: input.model } } : {}),
        ...(options.sleep ? { sleep: options.sleep } : {}),
        ...(options.log ? { logger: options.log } : {}),
      });
      return { plan: result.plan, planner: result.planner, usage: result.usage };
    },
  };
}
