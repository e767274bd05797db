import { budgetText } from '../town/costs.js';
import type { Plan } from '../town/types.js';

/**
 * A plan as a tree for a terminal: each bead under the first of its blockers (the others
 * named after it), independent beads at the top, so what can run in parallel stands side
 * by side and what must wait is indented under what it waits for.
 */
export function planTree(plan: Plan, heading?: string): string {
  const children = new Map<string, string[]>();
  const roots: string[] = [];
  for (const b of plan.beads) {
    const first = b.blockedBy[0];
    if (first && plan.beads.some((x) => x.key === first)) children.set(first, [...(children.get(first) ?? []), b.key]);
    else roots.push(b.key);
  }
  const byKey = new Map(plan.beads.map((b) => [b.key, b]));
  const lines = [heading ?? `Plan: ${plan.summary.split('\n')[0]}`];
  const seen = new Set<string>();
  const walk = (key: string, prefix: string, last: boolean) => {
    const b = byKey.get(key)!;
    if (seen.has(key)) return;
    seen.add(key);
    const others = b.blockedBy.slice(1);
    lines.push(`${prefix}${last ? '└─ ' : '├─ '}${b.key}: ${b.title}${others.length ? `  (also after ${others.join(', ')})` : ''}`);
    const kids = children.get(key) ?? [];
    kids.forEach((k, i) => walk(k, `${prefix}${last ? '   ' : '│  '}`, i === kids.length - 1));
  };
  roots.forEach((k, i) => walk(k, '', i === roots.length - 1));
  // What the plan asks to spend; the repository's maximum may cap it when it is slung.
  if (plan.budget && (plan.budget.usd !== undefined || plan.budget.tokens !== undefined))
    lines.push(`budget asked: ${budgetText(plan.budget)}`);
  return lines.join('\n');
}
