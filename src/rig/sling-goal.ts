import { createHash } from 'node:crypto';
import { GastownError } from '../errors.js';
import type { ModelUsage, Plan } from '../town/types.js';
import { recordPlan, type RecordedConvoy } from './record-plan.js';
import type { Rig } from './rig.js';

/**
 * Plans a goal into beads. The Mayor (mayor/goal-planner.ts) is the real one; the rig takes
 * it as a parameter so the service layer never imports the planner or the model client.
 */
export type GoalPlanner = (goal: { title: string; body: string; maxBeads: number }) => Promise<{
  plan: Plan;
  /** The planner that actually produced the plan. */
  planner: 'model' | 'checklist';
  usage: ModelUsage | null;
}>;

export interface SlingGoalInput {
  /** The goal: one line, or a Markdown document (a checklist of `- [ ] Task` lines for the checklist planner). */
  goal: string;
  title?: string;
  plan: GoalPlanner;
  requireApproval?: boolean;
}

/**
 * A goal planned locally: `input.plan` (the Mayor) plans it and the convoy and its beads are
 * recorded. Runners then dispatch and work them.
 */
export async function slingGoal(rig: Rig, input: SlingGoalInput): Promise<RecordedConvoy & { planner: 'model' | 'checklist' }> {
  const goal = input.goal.trim();
  if (!goal) throw new GastownError('gastown_bad_input', 'the goal is empty');
  const title = input.title?.trim() || firstLine(goal);
  const result = await input.plan({ title, body: goal, maxBeads: rig.settings.maxBeads });
  const recorded = await recordPlan(rig, {
    sourceKey: `local:${createHash('sha256').update(`${goal}\u0000${rig.at()}`).digest('hex').slice(0, 16)}`,
    title,
    source: { kind: 'local', goal: goal.slice(0, 2000), requestedBy: rig.actor },
    plan: result.plan,
    planner: result.planner,
    usage: result.usage,
    requireApproval: input.requireApproval ?? rig.settings.requireApproval,
    maxBeads: rig.settings.maxBeads,
  });
  return { ...recorded, planner: result.planner };
}

function firstLine(text: string): string {
  const line =
    text
      .split('\n')
      .map((l) => l.replace(/^#+\s*/, '').trim())
      .find((l) => l && !/^[-*] \[[ xX]\]/.test(l)) ?? 'Goal';
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}
