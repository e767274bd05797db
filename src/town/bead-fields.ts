/** Field schemas shared by bead creation, bead patches and plan validation. */
import { z } from './zod.js';

export const TITLE_MAX = 256;

export const titleSchema = z.string().check(
  z.trim(),
  z.minLength(1, 'title must not be empty'),
  z.maxLength(TITLE_MAX, `title must be at most ${TITLE_MAX} characters`),
  z.refine((s) => !/[\r\n]/.test(s), 'title must be a single line'),
);

export const prioritySchema = z
  .int('priority must be a whole number from 0 to 4')
  .check(z.gte(0, 'priority must be from 0 to 4'), z.lte(4, 'priority must be from 0 to 4'));

const labelSchema = z.string().check(
  z.trim(),
  z.minLength(1, 'labels must not be empty'),
  // Labels travel as comma-separated lists in commands and CLI flags.
  z.refine((s) => !s.includes(','), 'labels must not contain a comma'),
);

export const labelsSchema = z.pipe(
  z.array(labelSchema),
  z.transform((xs: string[]) => unique(xs)),
);

const idSchema = z.string().check(z.trim(), z.minLength(1, 'ids must not be empty'));

export const idListSchema = z.pipe(
  z.array(idSchema),
  z.transform((xs: string[]) => unique(xs)),
);

/** Free-text lists (acceptance criteria, file paths): blank entries are dropped, not refused. */
export const textListSchema = z.pipe(
  z.array(z.string()),
  z.transform((xs: string[]) => unique(xs.map((x) => x.trim()).filter(Boolean))),
);

export function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}
