/**
 * `/gt <command>` in an issue comment. Only the first non-empty line counts, so quoting a
 * command further down a reply does not run it.
 */
import { z } from 'zod';

const commandSchema = z.enum(['plan', 'approve', 'stop']);
export type GtCommand = z.infer<typeof commandSchema>;

/** The command, or null for a comment that is not a `/gt` command we handle. */
export function parseCommand(body: string | null | undefined): GtCommand | null {
  const firstLine = (body ?? '').split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  const match = /^\s*\/gt\s+([a-z-]+)\s*$/i.exec(firstLine);
  if (!match?.[1]) return null;
  const parsed = commandSchema.safeParse(match[1].toLowerCase());
  return parsed.success ? parsed.data : null;
}
