/**
 * The real Mayor behind `RepoServices.mayor`: `planGoal` with the Anthropic model when one
 * is configured (ANTHROPIC_API_KEY) and the repo config asks for it, otherwise the
 * checklist planner.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { Logger } from 'pino';
import { planGoal } from '../mayor/plan-goal.js';
import { mayorReplanner } from '../mayor/replanner.js';
import type { Replanner } from '../rig/replan-convoy.js';
import type { Convoy, ModelUsage, Plan } from '../town/types.js';

/** Everything the Mayor sees. All text is already stripped of hidden content. */
export interface MayorInput {
  repo: string;
  goal: { title: string; body: string; url: string };
  /** Human comments on the issue, oldest first (bots and our own comments left out). */
  comments: { author: string; body: string }[];
  /** Top-level entries of the default branch; directories end with `/`. */
  tree: string[];
  /** Excerpts of README, AGENTS.md, CONTRIBUTING. */
  docs: { path: string; excerpt: string }[];
  planner: 'model' | 'checklist';
  model: string;
  maxBeads: number;
}

export interface MayorResult {
  plan: Plan;
  planner: Convoy['planner'];
  usage: ModelUsage | null;
}

/** What the Mayor needs to re-plan a convoy; the context is read only when the model will use it. */
export interface ReplanRequest {
  planner: 'model' | 'checklist';
  model: string;
  context: () => Promise<Pick<MayorInput, 'goal' | 'comments' | 'tree' | 'docs'>>;
}

/** The real one wraps `planGoal(...)`; it throws GastownError('gastown_model' | 'gastown_plan_invalid'). */
export interface Mayor {
  plan(input: MayorInput): Promise<MayorResult>;
  /** The rig's `Replanner` for `TownService.replan` (mayor/replanner.ts). */
  replanner(request: ReplanRequest): Replanner;
}

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
    replanner(request: ReplanRequest): Replanner {
      return async (ctx) => {
        const withModel = request.planner === 'model' && options.model !== null;
        // The checklist path reads only the comment: no requests for context it would not use.
        const context = withModel ? await request.context() : null;
        return mayorReplanner({
          planner: request.planner,
          goal: context ? { title: context.goal.title, body: context.goal.body } : { title: ctx.title, body: '' },
          comments: context?.comments ?? [],
          tree: context?.tree ?? [],
          docs: (context?.docs ?? []).map((d) => ({ path: d.path, content: d.excerpt })),
          ...(options.model ? { model: { client: options.model.client, model: request.model } } : {}),
          ...(options.sleep ? { sleep: options.sleep } : {}),
          ...(options.log ? { logger: options.log } : {}),
        })(ctx);
      };
    },
  };
}
