import type { ChatPort } from '../chat/chat-port.js';
import { GastownError } from '../errors.js';
import type { FeedEvent } from '../town/types.js';

export interface FeedCursor {
  /** Id of the last event handled (posted or filtered out), or null before the first. */
  get(): Promise<string | null>;
  set(eventId: string): Promise<void>;
}

export interface FeedThreads {
  /** ts of the convoy's thread root, or null when the convoy has none yet. */
  get(convoyId: string): Promise<string | null>;
  set(convoyId: string, ts: string): Promise<void>;
}

export interface DeliverFeedDeps {
  /** All events, oldest first, in the one order every call sees. */
  events: () => Promise<FeedEvent[]>;
  /** Persisted by the caller (the ledger), so delivery resumes after a restart. */
  cursor: FeedCursor;
  threads: FeedThreads;
  chat: ChatPort;
  /** Events for which this returns false are skipped (and counted as handled). */
  filter?: (event: FeedEvent) => boolean;
}

export interface DeliverFeedResult {
  posted: number;
  skipped: number;
  cursor: string | null;
}

/**
 * Posts the events after the cursor, in order; one Slack thread per convoy (its first event
 * starts the thread, later ones reply in it); events without a convoy go top-level.
 *
 * Exactly once across restarts: the cursor moves right after each successful post, so a
 * failed post stops the run and the next run starts with that event. The one window left
 * is a crash between the post and the cursor write: that event is posted again on restart.
 * It is kept to those two awaits (the cursor and thread writes run together, nothing else
 * in between), and a post that fails changes nothing.
 *
 * Runs must not overlap (the caller serialises them, e.g. one timer chain per process or a
 * ledger lease); two overlapping runs would both post the same events.
 */
export async function deliverFeed(deps: DeliverFeedDeps): Promise<DeliverFeedResult> {
  const [events, start] = await Promise.all([deps.events(), deps.cursor.get()]);
  let from = 0;
  if (start !== null) {
    const at = events.findIndex((e) => e.id === start);
    // Refuse rather than guess: starting over would repost the whole feed.
    if (at === -1) throw new GastownError('gastown_not_found', `Feed cursor ${start} is not among the feed events`, { cursor: start });
    from = at + 1;
  }

  let posted = 0;
  let skipped = 0;
  let cursor = start;
  // Skipped events move the cursor lazily, with the next post or at the end: fewer writes.
  let pendingSkip: string | null = null;

  for (const event of events.slice(from)) {
    if (deps.filter && !deps.filter(event)) {
      skipped += 1;
      pendingSkip = event.id;
      continue;
    }
    const thread = event.convoy === null ? null : await deps.threads.get(event.convoy);
    const { ts } = await deps.chat.postFeedEvent(event, thread);
    await Promise.all([
      deps.cursor.set(event.id),
      event.convoy !== null && thread === null ? deps.threads.set(event.convoy, ts) : undefined,
    ]);
    cursor = event.id;
    pendingSkip = null;
    posted += 1;
  }

  if (pendingSkip !== null) {
    await deps.cursor.set(pendingSkip);
    cursor = pendingSkip;
  }
  return { posted, skipped, cursor };
}
