/**
 * Revision rounds: a bead in review sent back to its polecat (a review asking for changes,
 * failing CI, a failed Refinery gate, a conflict). Pure rules; the rig applies them in
 * rig/revise-bead.ts.
 */
import type { Bead } from './types.js';

export const REVISION_KINDS = ['review', 'ci', 'gate', 'conflict'] as const;
export type RevisionKind = (typeof REVISION_KINDS)[number];

/** The label a bead gets once its revision rounds are spent: a person must look. */
export const NEEDS_HUMAN_LABEL = 'gastown:needs-human';

/** The mail type the polecat's inbox gets for each round (the runner puts these into the prompt). */
export const REVISION_MAIL = 'REVISION_REQUESTED';

/** How many idempotency keys a bead remembers (a redelivered webhook must not count twice). */
const KEYS_KEPT = 32;

/**
 * Whether a round of this kind counts against `maxRevisions`: reviews, CI failures and gate
 * failures do; a conflict-only round (a rebase) does not.
 */
export function countsAsRound(kind: RevisionKind): boolean {
  return kind !== 'conflict';
}

export type RevisionDecision =
  /** Already recorded under this key (a redelivery): change nothing. */
  | { action: 'duplicate' }
  /** Past the cap: label the bead and tell a person. */
  | { action: 'needs_human'; rounds: number }
  /** Back to its polecat for round `round` (the number of counted rounds after this one). */
  | { action: 'revise'; round: number }
  /** The bead is not in review (being revised already, or not finished): the feedback waits in the inbox. */
  | { action: 'queue' };

/** What a revision request does to `bead` given the rig's cap. */
export function decideRevision(bead: Bead, kind: RevisionKind, maxRevisions: number, key: string | null): RevisionDecision {
  if (key && (bead.revisionKeys ?? []).includes(key)) return { action: 'duplicate' };
  if (bead.status !== 'in_review') return { action: 'queue' };
  const done = bead.revisions ?? 0;
  if (countsAsRound(kind) && done >= maxRevisions) return { action: 'needs_human', rounds: done };
  return { action: 'revise', round: countsAsRound(kind) ? done + 1 : done };
}

/** The bead's idempotency keys with `key` added (bounded, oldest dropped). */
export function withRevisionKey(bead: Bead, key: string | null): string[] | undefined {
  if (!key) return bead.revisionKeys;
  return [...(bead.revisionKeys ?? []), key].slice(-KEYS_KEPT);
}
