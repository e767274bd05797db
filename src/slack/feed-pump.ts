import type { ChatPort } from '../chat/chat-port.js';
import { GastownError, isGastownError } from '../errors.js';
import { readFeed } from '../rig/feed.js';
import { setConvoyMark } from '../rig/record-plan.js';
import type { Rig } from '../rig/rig.js';
import type { Convoy, FeedEvent, FeedEventType } from '../town/types.js';
import { deliverFeed, type DeliverFeedResult, type FeedCursor } from './deliver-feed.js';
import type { RigProvider } from '../rig/rig-provider.js';
import { serialRunner, type SerialRunner } from './serial-runner.js';
import { silentLogger, type StructuredLogger } from '../structured-logger.js';

/** The convoy mark Slack keeps its feed thread under (see `Convoy.marks`). */
export const SLACK_THREAD = 'slack.thread';

function slackThreadOf(convoy: Convoy | undefined): string | null {
  const ts = convoy?.marks?.[SLACK_THREAD] ?? (convoy as { slackThreadTs?: string | null } | undefined)?.slackThreadTs;
  return typeof ts === 'string' ? ts : null;
}

/** The ledger doc (kind `meta`) holding what the feed pump has delivered. */
export const FEED_CURSOR_DOC = 'slack-feed';

export interface FeedCursorDoc {
  /** Id of the last event handled, or null before the first. */
  cursor: string | null;
  /** Its time, so later runs read only the recent part of the feed. */
  cursorAt: string | null;
}

/** What the channel hears about; bead creation and edits, and private mail, stay out of it. */
export const FEED_TYPES: ReadonlySet<FeedEventType> = new Set<FeedEventType>([
  'convoy_planned',
  'convoy_approved',
  'convoy_landed',
  'convoy_failed',
  'convoy_stopped',
  'bead_slung',
  'bead_unslung',
  'bead_started',
  'bead_closed',
  'bead_reopened',
  'bead_failed',
  'pr_opened',
  'merged',
  'merge_failed',
  'stalled',
  'bead_paused',
  'budget_raised',
  'estop_engaged',
  'estop_released',
]);

/** Events older than the cursor by more than this are not read again (sync skew margin). */
const READ_MARGIN_MS = 60 * 60_000;

export interface FeedPumpOptions {
  provider: RigProvider;
  chat: ChatPort;
  logger?: StructuredLogger;
  /**
   * With no cursor yet: false (default) starts at the current end of the feed, so a new
   * install does not flood the channel with history; true posts everything.
   */
  backfill?: boolean;
}

/**
 * Reads the cursor doc, then sets it with compare-and-swap: a set succeeds only while the doc
 * still holds what this pump last saw, so two pumps in two processes cannot both move it
 * (the loser stops its run with `gastown_conflict`).
 */
class LedgerFeedCursor implements FeedCursor {
  private seen: string | null = null;

  constructor(private readonly rig: Rig) {}

  async load(): Promise<FeedCursorDoc | null> {
    const doc = await this.rig.ledger.get<FeedCursorDoc>('meta', FEED_CURSOR_DOC);
    this.seen = doc?.value.cursor ?? null;
    return doc?.value ?? null;
  }

  async get(): Promise<string | null> {
    return this.seen;
  }

  async set(eventId: string, at?: string): Promise<void> {
    const expected = this.seen;
    await this.rig.ledger.transact(
      async (tx) => {
        const current = await tx.get<FeedCursorDoc>('meta', FEED_CURSOR_DOC);
        if ((current?.cursor ?? null) !== expected) {
          throw new GastownError('gastown_conflict', 'Another feed pump moved the Slack feed cursor', { expected, found: current?.cursor });
        }
        tx.put<FeedCursorDoc>('meta', FEED_CURSOR_DOC, { cursor: eventId, cursorAt: at ?? null }, `slack feed cursor ${eventId}`);
      },
      { actor: 'gastown-slack' },
    );
    this.seen = eventId;
  }
}

export interface FeedPump {
  /** Delivers what is new, after any run in progress (runs never overlap in this process). */
  run(): Promise<DeliverFeedResult[]>;
  /** Asks for a run soon (after a write); coalesced with one already queued. */
  nudge(): void;
  /** Runs every `intervalMs` until stop(). */
  start(intervalMs: number): void;
  /** Stops the timer and waits for the run in progress. */
  stop(): Promise<void>;
}

async function pumpRepo(rig: Rig, opts: FeedPumpOptions, logger: StructuredLogger): Promise<DeliverFeedResult> {
  const cursor = new LedgerFeedCursor(rig);
  const doc = await cursor.load();
  const since = doc?.cursorAt ? new Date(Date.parse(doc.cursorAt) - READ_MARGIN_MS) : undefined;
  let events = await readFeed(rig, since ? { since } : {});
  // The cursor outside the recent window (a clock far off): read the whole feed once.
  if (doc?.cursor && since && !events.some((e) => e.id === doc.cursor)) events = await readFeed(rig);

  if (doc === null && !opts.backfill) return skipToEnd(cursor, events);
  if (doc?.cursor && !events.some((e) => e.id === doc.cursor)) {
    // The delivered event is gone (a rewritten ledger): stuck forever or skip ahead. Skipping
    // loses posts but never repeats one; say so loudly.
    logger.error({ cursor: doc.cursor }, 'slack feed cursor not found in the feed; skipping to the end');
    return skipToEnd(cursor, events);
  }

  const byId = new Map(events.map((e) => [e.id, e]));
  return deliverFeed({
    events: async () => events,
    cursor: { get: () => cursor.get(), set: (id) => cursor.set(id, byId.get(id)?.at) },
    threads: {
      get: async (convoyId) => slackThreadOf((await rig.ledger.get<Convoy>('convoys', convoyId))?.value),
      set: async (convoyId, ts) => {
        try {
          await setConvoyMark(rig.withActor('gastown-slack'), convoyId, SLACK_THREAD, ts);
        } catch (err) {
          // An event may name a convoy that was never recorded (a failed plan): no thread to keep.
          if (!isGastownError(err, 'gastown_not_found')) throw err;
        }
      },
    },
    chat: opts.chat,
    filter: (e: FeedEvent) => FEED_TYPES.has(e.type),
  });
}

async function skipToEnd(cursor: LedgerFeedCursor, events: FeedEvent[]): Promise<DeliverFeedResult> {
  const last = events.at(-1);
  if (last) await cursor.set(last.id, last.at);
  return { posted: 0, skipped: events.length, cursor: last?.id ?? null };
}

/**
 * Posts ledger feed events to the feed channel, one thread per convoy, exactly once across
 * restarts (the cursor lives in each repository's ledger). One pump per process: runs are
 * chained, so two never overlap.
 */
export function createFeedPump(opts: FeedPumpOptions): FeedPump {
  const logger = opts.logger ?? silentLogger;
  const runner: SerialRunner<DeliverFeedResult[]> = serialRunner(async () => {
    const results: DeliverFeedResult[] = [];
    for (const repo of await opts.provider.repos()) {
      try {
        const r = await opts.provider.withRig(repo, (rig) => pumpRepo(rig, opts, logger));
        if (r.posted > 0) logger.info({ repo, posted: r.posted, skipped: r.skipped }, 'slack feed delivered');
        results.push(r);
      } catch (err) {
        // One repository's failure (Slack down, a lost cursor race) must not stop the others.
        logger.warn({ repo, code: (err as { code?: string }).code, err: { message: (err as Error).message } }, 'slack feed run failed');
      }
    }
    return results;
  });
  return runner;
}
