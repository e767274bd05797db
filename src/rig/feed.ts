import { GastownError } from '../errors.js';
import type { HistoryEntry } from '../ledger/ledger.js';
import type { Bead, FeedEvent } from '../town/types.js';
import type { Rig } from './rig.js';
import { checkBeadId } from '../town/ids.js';

/** Feed events from every writer, oldest first (one `git log` over all feed chains). */
export async function readFeed(rig: Rig, opts: { since?: Date } = {}): Promise<FeedEvent[]> {
  const entries = await rig.ledger.readChain<FeedEvent>('feed', null, opts);
  const events = entries.map((e) => e.value).filter((e) => !opts.since || Date.parse(e.at) >= opts.since.getTime());
  return events.sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
}

export interface TrailEntry {
  at: string;
  actor: string;
  kind: string;
  id: string;
  summary: string;
  status: string | null;
  commit: string;
}

/** Recent history of beads and convoys (or of one bead): every version, newest first. */
export async function readTrail(rig: Rig, opts: { since?: Date; bead?: string; limit?: number } = {}): Promise<TrailEntry[]> {
  let entries: (HistoryEntry<Record<string, unknown>> & { kind: string })[];
  if (opts.bead) {
    entries = (await rig.ledger.history<Record<string, unknown>>('beads', checkBeadId(opts.bead))).map((e) => ({ ...e, kind: 'beads' }));
    if (opts.since) entries = entries.filter((e) => e.time * 1000 >= opts.since!.getTime());
  } else
    entries = await rig.ledger.trail<Record<string, unknown>>(['beads', 'convoys', 'hooks'], {
      since: opts.since,
      limit: opts.limit ?? 200,
    });
  return entries.map((e) => ({
    at: new Date(e.time * 1000).toISOString(),
    actor: e.actor,
    kind: e.kind,
    id: String((e.value as Partial<Bead> | null)?.id ?? (e.value as { agent?: string } | null)?.agent ?? ''),
    summary: e.summary,
    status: typeof e.value?.status === 'string' ? (e.value.status as string) : null,
    commit: e.oid,
  }));
}

/** Parses `--since` values: an ISO time, or a duration like 30m, 2h, 1d. */
export function parseSince(text: string, now: Date): Date {
  const m = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim());
  if (m) {
    const n = Number(m[1]);
    const unit = { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[m[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now.getTime() - n * unit);
  }
  const t = Date.parse(text);
  if (Number.isNaN(t))
    throw new GastownError('gastown_bad_input', `--since wants an ISO time or a duration like 30m, 2h, 1d (got ${JSON.stringify(text)})`);
  return new Date(t);
}
