import type * as core from 'zod/v4/core';
import { GastownError } from '../errors.js';
import { z } from './zod.js';

/**
 * Parses with a zod schema and turns failure into one `gastown_bad_input` line a person can
 * act on ("bad bead: title: must not contain a newline"), instead of zod's JSON dump.
 */
export function parseInput<S extends core.$ZodType>(schema: S, input: unknown, what: string): core.output<S> {
  const result = z.safeParse(schema, input);
  if (result.success) return result.data as core.output<S>;
  const problems = result.error.issues.map((issue) =>
    issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
  );
  throw new GastownError('gastown_bad_input', `bad ${what}: ${problems.join('; ')}`, { issues: problems });
}
