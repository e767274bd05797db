/**
 * `/gt <command>` in an issue comment. Only the first non-empty line counts, so quoting a
 * command further down a reply does not run it.
 */
import { z } from 'zod';

const commandSchema = z.enum(['plan', 'approve', 'stop', 'budget', 'estop']);
export type GtCommand = z.infer<typeof commandSchema>;

/** Commands that take words after them (`/gt budget +$5`, `/gt estop release`); the others stand alone. */
const TAKES_ARGS: ReadonlySet<GtCommand> = new Set(['budget', 'estop']);

function firstCommandLine(body: string | null | undefined): RegExpExecArray | null {
  const firstLine = (body ?? '').split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  return /^\s*\/gt\s+([a-z-]+)(?:\s+(.*?))?\s*$/i.exec(firstLine);
}

/** The command, or null for a comment that is not a `/gt` command we handle. */
export function parseCommand(body: string | null | undefined): GtCommand | null {
  const match = firstCommandLine(body);
  if (!match?.[1]) return null;
  const parsed = commandSchema.safeParse(match[1].toLowerCase());
  if (!parsed.success) return null;
  return match[2] && !TAKES_ARGS.has(parsed.data) ? null : parsed.data;
}

/** What follows the command word (`+$5` in `/gt budget +$5`), or ''. */
export function commandArgs(body: string | null | undefined): string {
  return firstCommandLine(body)?.[2]?.trim() ?? '';
}
