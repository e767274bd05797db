/**
 * The shape of every kind of value the ledger stores, checked on read: a value that arrived
 * through `gt sync` or was written with plain git must not break a command that only
 * happened to list it. Extra fields are allowed (a newer version may add some); the fields
 * the code relies on must be there with the right types.
 */
import type * as core from 'zod/v4/core';
import { z } from './zod.js';
import { BEAD_STATUSES, CONVOY_STATUSES } from './types.js';

const str = z.string();
const nullableStr = z.nullable(z.string());
const strings = z.array(z.string());
const forgeLink = z.looseObject({ number: z.number(), id: z.optional(z.number()), url: z.string() });

const bead = z.looseObject({
  id: str,
  title: str,
  body: str,
  status: z.enum(BEAD_STATUSES),
  priority: z.number(),
  labels: strings,
  blockedBy: strings,
  parent: nullableStr,
  convoy: nullableStr,
  key: nullableStr,
  acceptance: strings,
  files: strings,
  assignee: nullableStr,
  branch: nullableStr,
  issue: z.nullable(forgeLink),
  pr: z.nullable(forgeLink),
  attempts: z.number(),
  closeReason: nullableStr,
  createdAt: str,
  updatedAt: str,
});

const convoy = z.looseObject({
  id: str,
  title: str,
  beads: strings,
  status: z.enum(CONVOY_STATUSES),
  approved: z.boolean(),
  approvedBy: nullableStr,
  source: z.nullable(
    z.looseObject({
      kind: z.enum(['github', 'local', 'slack']),
      repo: z.optional(str),
      issue: z.optional(forgeLink),
      goal: z.optional(str),
      requestedBy: z.optional(str),
    }),
  ),
  planner: z.enum(['model', 'checklist', 'manual']),
  usage: z.nullable(
    z.looseObject({
      inputTokens: z.number(),
      outputTokens: z.number(),
      cacheReadTokens: z.number(),
      cacheWriteTokens: z.number(),
      costUsd: z.number(),
    }),
  ),
  marks: z.optional(z.record(z.string(), z.union([z.string(), z.number()]))),
  // Written by older versions; read by the surfaces that own them (see Convoy.marks).
  statusCommentId: z.optional(z.nullable(z.number())),
  slackThreadTs: z.optional(nullableStr),
  createdAt: str,
  updatedAt: str,
  landedAt: nullableStr,
  materialisedAt: z.optional(nullableStr),
  lastError: z.optional(z.nullable(z.looseObject({ code: str, message: str, at: str }))),
  sourceKey: z.optional(nullableStr),
});

const agent = z.looseObject({
  name: str,
  role: z.enum(['polecat', 'mayor', 'deacon', 'refinery', 'person']),
  email: str,
  createdAt: str,
  beadsDone: z.number(),
  beadsFailed: z.number(),
});

const hook = z.looseObject({ agent: str, bead: nullableStr, slungAt: nullableStr, slungBy: nullableStr });

const heartbeat = z.looseObject({ agent: str, bead: str, runner: str, at: str });

/** `meta` holds small documents of several shapes (Slack cursors...): any JSON object. */
const anyObject = z.looseObject({});

const mailMessage = z.looseObject({
  id: str,
  kind: z.enum(['mail', 'nudge']),
  from: str,
  to: str,
  subject: str,
  body: str,
  type: nullableStr,
  bead: nullableStr,
  createdAt: str,
});

/** An inbox chain holds messages and read marks. */
const inboxEntry = z.union([z.looseObject({ message: mailMessage }), z.looseObject({ read: z.looseObject({ readId: str, at: str }) })]);

/** The event type stays an open string: a newer writer's new type must not hide its events. */
const feedEvent = z.looseObject({
  id: str,
  type: str,
  at: str,
  actor: str,
  bead: z.optional(nullableStr),
  convoy: z.optional(nullableStr),
  message: str,
  url: z.optional(nullableStr),
});

/** A Mayor conversation entry: a message, a draft plan, a slung draft, or a fresh start. */
const conversationEntry = z.looseObject({ type: z.enum(['message', 'draft', 'slung', 'reset']), at: str });

export type EntityKind =
  | 'beads'
  | 'convoys'
  | 'agents'
  | 'hooks'
  | 'heartbeats'
  | 'meta'
  | 'mail'
  | 'reports'
  | 'feed'
  | 'cursors'
  | 'conversations';

const SCHEMAS: Record<EntityKind, core.$ZodType> = {
  beads: bead,
  convoys: convoy,
  agents: agent,
  hooks: hook,
  heartbeats: heartbeat,
  meta: anyObject,
  mail: inboxEntry,
  reports: z.looseObject({ message: mailMessage }),
  feed: feedEvent,
  cursors: anyObject,
  conversations: conversationEntry,
};

/** One line for a failed check: the first problem with its path, and how many more there are. */
function describe(issues: readonly core.$ZodIssue[]): string {
  const first = issues[0];
  if (!first) return 'invalid value';
  const where = first.path.length ? `${first.path.join('.')}: ` : '';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return `${where}${first.message}${more}`;
}

function validatorFor(schema: core.$ZodType): (value: unknown) => string | null {
  return (value) => {
    const result = z.safeParse(schema, value);
    return result.success ? null : describe(result.error.issues);
  };
}

/** What the rig hands the ledger: by kind, null for a good value, else one line saying what is wrong. */
export const entityValidators: Record<EntityKind, (value: unknown) => string | null> = Object.fromEntries(
  Object.entries(SCHEMAS).map(([kind, schema]) => [kind, validatorFor(schema)]),
) as Record<EntityKind, (value: unknown) => string | null>;
