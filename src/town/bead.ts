import { z } from './zod.js';
import { GastownError } from '../errors.js';
import { idListSchema, labelsSchema, prioritySchema, textListSchema, titleSchema, unique } from './bead-fields.js';
import { parseInput } from './parse-input.js';
import type { Bead, BeadPatch, NewBeadInput } from './types.js';

export type { BeadPatch, NewBeadInput } from './types.js';

// Built once: zod compiles each object schema on first use, so a schema made per call
// would recompile for every bead (a bulk import of 10,000 beads spent most of its time there).
const ref = z._default(z.nullable(z.string().check(z.trim(), z.minLength(1))), null);
const newBeadSchema = z.object({
  title: titleSchema,
  body: z._default(z.string(), ''),
  priority: z._default(prioritySchema, 2),
  labels: z._default(labelsSchema, []),
  blockedBy: z._default(idListSchema, []),
  parent: ref,
  convoy: ref,
  key: ref,
  acceptance: z._default(textListSchema, []),
  files: z._default(textListSchema, []),
});

/** A validated, open bead. Throws `gastown_bad_input` with a one-line reason. */
export function newBead(input: NewBeadInput, id: string, at: string): Bead {
  const v = parseInput(newBeadSchema, input, `bead ${id}`);
  if (v.blockedBy.includes(id)) throw new GastownError('gastown_bad_input', `bad bead ${id}: blockedBy: ${id} cannot be blocked by itself`);
  if (v.parent === id) throw new GastownError('gastown_bad_input', `bad bead ${id}: parent: ${id} cannot be its own parent`);
  return {
    id,
    title: v.title,
    body: v.body,
    status: 'open',
    priority: v.priority,
    labels: v.labels,
    blockedBy: v.blockedBy,
    parent: v.parent,
    convoy: v.convoy,
    key: v.key,
    acceptance: v.acceptance,
    files: v.files,
    assignee: null,
    branch: null,
    issue: null,
    pr: null,
    attempts: 0,
    closeReason: null,
    createdAt: at,
    updatedAt: at,
  };
}

const patchSchema = z.object({
  title: z.optional(titleSchema),
  body: z.optional(z.string()),
  priority: z.optional(prioritySchema),
  labels: z.optional(labelsSchema),
  addLabels: z.optional(labelsSchema),
  removeLabels: z.optional(labelsSchema),
});

/**
 * Applies a person's edit. Returns the very same bead object when the patch changes
 * nothing, so a caller can skip the ledger write (webhooks and retries repeat edits).
 */
export function applyBeadPatch(bead: Bead, patch: BeadPatch, at: string): Bead {
  const v = parseInput(patchSchema, patch, `edit of ${bead.id}`);
  const removed = new Set(v.removeLabels ?? []);
  const labels = unique([...(v.labels ?? bead.labels), ...(v.addLabels ?? [])]).filter((l) => !removed.has(l));
  const next: Bead = {
    ...bead,
    title: v.title ?? bead.title,
    body: v.body ?? bead.body,
    priority: v.priority ?? bead.priority,
    labels,
  };
  const changed =
    next.title !== bead.title ||
    next.body !== bead.body ||
    next.priority !== bead.priority ||
    labels.length !== bead.labels.length ||
    labels.some((l, i) => l !== bead.labels[i]);
  return changed ? { ...next, updatedAt: at } : bead;
}
