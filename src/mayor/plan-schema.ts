import { z } from 'zod';

import { GastownError } from '../errors.js';
import { TITLE_MAX } from '../town/bead-fields.js';
import type { Plan } from '../town/types.js';

/**
 * The shape of a Mayor's plan, validated at the boundary where the model's output (or a
 * parsed checklist) enters the town. Structure only: graph rules (unique keys, known
 * blockers, no cycles, bead count against the rig's cap) live in `validatePlan`.
 *
 * The caps keep one plan small enough to materialise as GitHub issues (title 256 characters,
 * body 65,536) and to keep a runaway model from filling the ledger.
 */

/** Absolute ceiling on beads in any plan; a rig's own `maxBeads` is at most this. */
export const PLAN_BEADS_CEILING = 50;

/**
 * Plan keys become parts of branch names and log lines. Same rule as `validatePlan`'s
 * (1 to 40 characters), spelt without the `i` flag because JSON schema patterns have none.
 */
const planKey = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);

export const PlanBeadSchema = z.object({
  key: planKey.describe('Short unique name for this bead within the plan, e.g. "auth-api".'),
  title: z.string().min(1).max(TITLE_MAX).describe('Imperative one-line title of the unit of work.'),
  description: z.string().max(20_000).describe('What to do and why, with enough detail for an engineer who has not read the issue.'),
  acceptance: z
    .array(z.string().min(1).max(500))
    .max(20)
    .describe('Checkable acceptance criteria: how a reviewer knows this bead is done.'),
  files: z.array(z.string().min(1).max(300)).max(50).describe('Repository paths this bead is expected to create or change.'),
  blockedBy: z
    .array(planKey)
    .max(PLAN_BEADS_CEILING)
    .describe('Keys of beads in this plan that must be merged before this one can start. Only real dependencies.'),
});

export const PlanSchema = z.object({
  summary: z.string().min(1).max(4_000).describe('A few sentences: the approach and how the beads fit together.'),
  beads: z.array(PlanBeadSchema).min(1).max(PLAN_BEADS_CEILING),
  budget: z
    .object({
      usd: z.number().positive().max(1_000_000).optional().describe('Dollars the polecats may spend on the whole convoy.'),
      tokens: z.number().int().positive().max(1_000_000_000).optional().describe('Tokens (input, output and cache) for the whole convoy.'),
    })
    .strict()
    .optional()
    .describe(
      "Optional: what the polecats' agents may spend on this convoy. The repository's maximum caps it; leave it out to take the repository's default.",
    ),
});

// Compile-time guard: the schema and the town's `Plan` type must describe the same thing.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesPlan: Same<z.infer<typeof PlanSchema>, Plan> = true;
void schemaMatchesPlan;

/**
 * JSON schema for the `submit_plan` tool's `input_schema`, generated from `PlanSchema` so
 * the model is told exactly what we will accept (never written twice by hand).
 */
export function planJsonSchema(maxBeads: number): { type: 'object'; [k: string]: unknown } {
  if (!Number.isInteger(maxBeads) || maxBeads < 1 || maxBeads > PLAN_BEADS_CEILING) {
    throw new GastownError('gastown_bad_input', `maxBeads must be an integer from 1 to ${PLAN_BEADS_CEILING}, got ${maxBeads}`, {
      maxBeads,
    });
  }
  const schema = PlanSchema.extend({ beads: PlanSchema.shape.beads.max(maxBeads) });
  // `$schema` is noise in a tool definition; the API assumes draft 2020-12 anyway.
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { target: 'draft-2020-12' }) as Record<string, unknown>;
  return { ...json, type: 'object' };
}
