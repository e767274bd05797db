import { z } from './zod.js';
import { GastownError } from '../errors.js';
import { TITLE_MAX, idListSchema } from './bead-fields.js';
import { parseInput } from './parse-input.js';
import { BEAD_STATUSES } from './types.js';
import type { Bead, BeadStatus, Budget, Convoy, ConvoyProgress, ConvoySource, ModelUsage } from './types.js';

export interface NewConvoyInput {
  title: string;
  beads: string[];
  approved?: boolean;
  source?: ConvoySource | null;
  planner?: Convoy['planner'];
  usage?: ModelUsage | null;
  budget?: Budget | null;
}

/**
 * Convoy titles often come from a goal typed in Slack or the CLI, which may span lines or
 * run long: fold whitespace and cut, rather than refuse the person's goal.
 */
const convoyTitleSchema = z.pipe(
  z.pipe(
    z.string(),
    z.transform((s: string) => s.replace(/\s+/g, ' ').trim()),
  ),
  z.pipe(
    z.string().check(z.minLength(1, 'title must not be empty')),
    z.transform((s: string) => (s.length > TITLE_MAX ? `${s.slice(0, TITLE_MAX - 3)}...` : s)),
  ),
);

const inputSchema = z.object({
  title: convoyTitleSchema,
  beads: idListSchema,
  approved: z._default(z.boolean(), true),
  planner: z._default(z.enum(['model', 'checklist', 'manual']), 'manual'),
});

/** A convoy; one that needs a person's approval waits in `awaiting_approval`. */
export function newConvoy(input: NewConvoyInput, id: string, at: string): Convoy {
  const v = parseInput(inputSchema, input, `convoy ${id}`);
  return {
    id,
    title: v.title,
    beads: v.beads,
    status: v.approved ? 'active' : 'awaiting_approval',
    approved: v.approved,
    approvedBy: null,
    source: input.source ?? null,
    planner: v.planner,
    usage: input.usage ?? null,
    ...(input.budget ? { budget: input.budget } : {}),
    createdAt: at,
    updatedAt: at,
    landedAt: null,
  };
}

/** Counts over the convoy's own beads; a bead not in `beads` (not loaded yet) counts as open. */
export function convoyProgress(convoy: Convoy, beads: readonly Bead[]): ConvoyProgress {
  const byId = new Map(beads.map((b) => [b.id, b] as const));
  const byStatus = Object.fromEntries(BEAD_STATUSES.map((s) => [s, 0])) as Record<BeadStatus, number>;
  const ids = new Set(convoy.beads);
  for (const id of ids) byStatus[byId.get(id)?.status ?? 'open'] += 1;
  const total = ids.size;
  const closed = byStatus.closed;
  return {
    total,
    closed,
    failed: byStatus.failed,
    byStatus,
    // Rounded down: "100%" must never show while a bead is still open.
    percent: total === 0 ? 0 : Math.floor((closed * 100) / total),
    done: total > 0 && closed === total,
  };
}

/** `[########------------] 8/20 closed (40%)`, plain ASCII for Slack, CLI and comments alike. */
export function progressBar(p: ConvoyProgress, width = 20): string {
  const filled = p.total === 0 ? 0 : Math.floor((p.closed * width) / p.total);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.closed}/${p.total} closed (${p.percent}%)`;
}

/** Marks an active convoy landed. Landing twice returns the convoy unchanged (redeliveries). */
export function landConvoy(convoy: Convoy, at: string): Convoy {
  if (convoy.status === 'landed') return convoy;
  if (convoy.status !== 'active') {
    throw new GastownError('gastown_illegal_transition', `convoy ${convoy.id} cannot land from ${convoy.status}`, {
      convoy: convoy.id,
      from: convoy.status,
      to: 'landed',
    });
  }
  return { ...convoy, beads: [...convoy.beads], status: 'landed', landedAt: at, updatedAt: at };
}
