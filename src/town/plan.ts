/**
 * Checks on a Mayor's plan. The model's output is untrusted, so validatePlan reports every
 * problem as a sentence the model can read on retry, and catches anything newBead would
 * refuse, so materialising a valid plan cannot fail half-way.
 */
import { GastownError } from '../errors.js';
import { TITLE_MAX } from './bead-fields.js';
import { findCycle } from './graph.js';
import type { NewBeadInput, Plan } from './types.js';

export const PLAN_KEY_PATTERN = /^[a-z0-9][a-z0-9-_.]{0,39}$/i;

/** Human-readable problems with the plan; an empty list means it is valid. */
export function validatePlan(plan: Plan, opts: { maxBeads: number }): string[] {
  const errors: string[] = [];
  const beads = Array.isArray(plan?.beads) ? plan.beads : [];
  if (beads.length === 0) errors.push('the plan has no beads; it needs at least 1');
  if (beads.length > opts.maxBeads) {
    errors.push(`the plan has ${beads.length} beads; at most ${opts.maxBeads} are allowed`);
  }

  const seen = new Set<string>();
  const duplicates = new Set<string>();
  beads.forEach((b, i) => {
    const key = typeof b.key === 'string' ? b.key : '';
    const name = key ? `bead "${key}"` : `bead ${i + 1}`;
    if (!key) errors.push(`${name} has an empty key`);
    else if (!PLAN_KEY_PATTERN.test(key)) {
      errors.push(`${name}: key must be 1 to 40 letters, digits, "-", "_" or ".", starting with a letter or digit`);
    } else if (seen.has(key)) duplicates.add(key);
    seen.add(key);

    const title = typeof b.title === 'string' ? b.title.trim() : '';
    if (!title) errors.push(`${name} has an empty title`);
    else if (title.length > TITLE_MAX) errors.push(`${name}: title is longer than ${TITLE_MAX} characters`);
    else if (/[\r\n]/.test(title)) errors.push(`${name}: title must be a single line`);
  });
  for (const key of duplicates) errors.push(`key "${key}" is used by more than one bead`);

  for (const b of beads) {
    for (const dep of Array.isArray(b.blockedBy) ? b.blockedBy : []) {
      if (dep === b.key) errors.push(`bead "${b.key}" is blocked by itself`);
      else if (!seen.has(dep)) errors.push(`bead "${b.key}" is blocked by unknown key "${dep}"`);
    }
  }

  // Self-loops are reported above; leave them out so the cycle message names a real loop.
  const cycle = findCycle(
    beads.map((b) => ({ id: b.key, blockedBy: (Array.isArray(b.blockedBy) ? b.blockedBy : []).filter((d) => d !== b.key) })),
  );
  if (cycle) errors.push(`the dependencies form a cycle: ${[...cycle, cycle[0]].join(' -> ')}`);
  return errors;
}

/**
 * The plan's beads as inputs for newBead, with keys turned into bead ids. Every key must be
 * in `keyToId` (the caller allocates ids for the whole plan first).
 */
export function planToBeadInputs(plan: Plan, keyToId: Map<string, string>, convoyId: string): NewBeadInput[] {
  const idOf = (key: string): string => {
    const id = keyToId.get(key);
    if (id === undefined) {
      throw new GastownError('gastown_plan_invalid', `plan key "${key}" has no bead id`, { key });
    }
    return id;
  };
  return plan.beads.map((b) => {
    idOf(b.key);
    return {
      title: b.title,
      body: b.description,
      blockedBy: b.blockedBy.map(idOf),
      convoy: convoyId,
      key: b.key,
      acceptance: [...b.acceptance],
      files: [...b.files],
    };
  });
}
