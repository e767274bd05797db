/**
 * The bead state machine. Every status change in the product goes through transitionBead so
 * a bead can never reach a state the runners, Refinery and Deacon do not expect.
 */
import { GastownError } from '../errors.js';
import type { Bead, BeadStatus } from './types.js';

const transitions: Record<BeadStatus, BeadStatus[]> = {
  // slung to a polecat; or closed by hand
  open: ['hooked', 'closed'],
  // runner starts; unsling; closed by hand
  hooked: ['in_progress', 'open', 'closed'],
  // PR opened or queued; polecat dead or unslung; re-slung after a stall; retry cap; by hand
  in_progress: ['in_review', 'open', 'hooked', 'failed', 'closed'],
  // merged; PR closed unmerged; sent back to its polecat; retry cap
  in_review: ['closed', 'open', 'hooked', 'failed'],
  // reopen
  closed: ['open'],
  // reopen; closed by hand
  failed: ['open', 'closed'],
};

export const BEAD_TRANSITIONS: ReadonlyMap<BeadStatus, ReadonlySet<BeadStatus>> = new Map(
  Object.entries(transitions).map(([from, to]) => [from as BeadStatus, new Set(to)] as const),
);

export function canTransition(from: BeadStatus, to: BeadStatus): boolean {
  return BEAD_TRANSITIONS.get(from)?.has(to) ?? false;
}

/** Statuses in which no polecat holds the bead. */
const UNASSIGNED: ReadonlySet<BeadStatus> = new Set(['open', 'closed', 'failed']);

/**
 * A new bead in status `to`, with `patch` applied. The id, createdAt, status and updatedAt
 * cannot be patched. The assignee is cleared when no polecat holds the bead any more, and a
 * closeReason survives only on a closed bead, so a reopened bead carries no stale reason.
 */
export function transitionBead(bead: Bead, to: BeadStatus, at: string, patch: Partial<Bead> = {}): Bead {
  const from = bead.status;
  if (!canTransition(from, to)) {
    throw new GastownError('gastown_illegal_transition', `bead ${bead.id} cannot go from ${from} to ${to}`, {
      bead: bead.id,
      from,
      to,
    });
  }
  const next: Bead = {
    ...bead,
    ...patch,
    id: bead.id,
    createdAt: bead.createdAt,
    status: to,
    updatedAt: at,
  };
  if (UNASSIGNED.has(to) && !('assignee' in patch)) next.assignee = null;
  next.closeReason = to === 'closed' ? (patch.closeReason ?? null) : null;
  // Copy arrays so the new bead shares no mutable state with the old one.
  next.labels = [...next.labels];
  next.blockedBy = [...next.blockedBy];
  next.acceptance = [...next.acceptance];
  next.files = [...next.files];
  return next;
}
