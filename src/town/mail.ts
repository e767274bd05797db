import { z } from './zod.js';
import { AGENT_NAME } from './ids.js';
import { parseInput } from './parse-input.js';
import type { MailKind, MailMessage, MailReadMark } from './types.js';

export interface NewMailInput {
  from: string;
  to: string;
  subject: string;
  body?: string;
  type?: string | null;
  bead?: string | null;
  kind?: MailKind;
}

const agentName = (field: string) =>
  z.string().check(z.regex(AGENT_NAME, `${field} must be an agent name (letters, digits, ".", "_", "-"; at most 64)`));

const mailSchema = z.object({
  from: agentName('from'),
  to: agentName('to'),
  subject: z
    .string()
    .check(z.trim(), z.minLength(1, 'subject must not be empty'), z.maxLength(200, 'subject must be at most 200 characters')),
  body: z._default(z.string(), ''),
  type: z._default(z.nullable(z.string().check(z.trim(), z.minLength(1, 'type must not be empty'))), null),
  bead: z._default(z.nullable(z.string().check(z.trim(), z.minLength(1, 'bead must not be empty'))), null),
  kind: z._default(z.enum(['mail', 'nudge']), 'mail'),
});

export function newMail(input: NewMailInput, id: string, at: string): MailMessage {
  const v = parseInput(mailSchema, input, 'mail');
  return { id, kind: v.kind, from: v.from, to: v.to, subject: v.subject, body: v.body, type: v.type, bead: v.bead, createdAt: at };
}

/** Messages with no read mark, in their original order. */
export function unreadMessages(messages: readonly MailMessage[], marks: readonly MailReadMark[]): MailMessage[] {
  const read = new Set(marks.map((m) => m.readId));
  return messages.filter((m) => !read.has(m.id));
}
