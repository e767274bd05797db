/** Field schemas shared by bead creation, bead patches and plan validation. */
import { z } from 'zod';

export const TITLE_MAX = 256;

export const titleSchema = z
  .string()
  .trim()
  .min(1, 'title must not be empty')
  .max(TITLE_MAX, `title must be at most ${TITLE_MAX} characters`)
  .refine((s) => !/[\r\n]/.test(s), 'title must be a single line');

export const prioritySchema = z
  .number()
  .int('priority must be a whole number from 0 to 4')
  .min(0, 'priority must be from 0 to 4')
  .max(4, 'priority must be from 0 to 4');

const labelSchema = z
  .string()
  .trim()
  .min(1, 'labels must not be empty')
  // Labels travel as comma-separated lists in commands and CLI flags.
  .refine((s) => !s.includes(','), 'labels must not contain a comma');

export const labelsSchema = z.array(labelSchema).transform(unique);

const idSchema = z.string().trim().min(1, 'ids must not be empty');

export const idListSchema = z.array(idSchema).transform(unique);

/** Free-text lists (acceptance criteria, file paths): blank entries are dropped, not refused. */
export const textListSchema = z.array(z.string()).transform((xs) => unique(xs.map((x) => x.trim()).filter(Boolean)));

export function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}
