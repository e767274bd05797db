import type Anthropic from '@anthropic-ai/sdk';
import type { GoalPlanner } from '../rig/sling-goal.js';
import { planGoal } from './plan-goal.js';

/**
 * The Mayor as the rig's `GoalPlanner`: the model planner when a model is given (unless the
 * checklist planner is asked for), else the checklist in the goal text.
 */
export function goalPlanner(
  opts: { model?: { client: Anthropic; model: string } | null; planner?: 'model' | 'checklist' } = {},
): GoalPlanner {
  const planner = opts.planner ?? (opts.model ? 'model' : 'checklist');
  return (goal) => planGoal({ planner, ...goal, ...(opts.model ? { model: opts.model } : {}) });
}
