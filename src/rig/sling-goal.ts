import { createHash } from 'node:crypto';
import type Anthropic from '@anthropic-ai/sdk';
import { GastownError } from '../errors.js';
import { planGoal } from '../mayor/plan-goal.js';
import { recordPlan, type RecordedConvoy } from './record-plan.js';
import type { Rig } from './rig.js';

export interface SlingGoalInput {
  /** The goal: one line, or a Markdown document (a checklist of `- [ ] Task` lines for the checklist planner). */
  goal: string;
  title?: string;
  /** Model planner when a model is given, unless the checklist planner is asked for. */
  planner?: 'model' | 'checklist';
  model?: { client: Anthropic; model: string } | null;
  requireApproval?: boolean;
}

/**
 * The local Mayor: plans a goal (the model when one is configured, else the checklist
 * planner) and records the convoy and its beads. Runners then dispatch and work them.
 */
export async function slingGoal(rig: Rig, input: SlingGoalInput): Promise<RecordedConvoy & { planner: 'model' | 'checklist' }> {
  const goal = input.goal.trim();
  if (!goal) throw new GastownError('gastown_bad_input', 'the goal is empty');
  const title = input.title?.trim() || firstLine(goal);
  const planner = input.planner ?? (input.model ? 'model' : 'checklist');
  const result = await planGoal({
    planner,
    title,
    body: goal,
    maxBeads: rig.settings.maxBeads,
    model: input.model ?? undefined,
  });
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
  const line = text.split('\n').map((l) => l.replace(/^#+\s*/, '').trim()).find((l) => l && !/^[-*] \[[ xX]\]/.test(l)) ?? 'Goal';
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}
