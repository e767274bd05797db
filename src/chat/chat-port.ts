import type { FeedEvent, MailMessage } from '../town/types.js';

/** Who a direct message goes to: a GitHub login (resolved by the adapter) or a chat user id. */
export type ChatRecipient = { login: string } | { slackUser: string };

/**
 * Outgoing chat: the feed and direct messages. Adapters: Slack (Web API) and console (local
 * mode). Services depend on this port, never on Slack.
 */
export interface ChatPort {
  /**
   * Posts one feed event, as a reply in `thread` when given, else as a new top-level message.
   * Returns the posted message's ts; for a top-level post that is the ts new replies thread on.
   * Not idempotent: the caller (deliverFeed) records what was posted.
   */
  postFeedEvent(event: FeedEvent, thread: string | null): Promise<{ ts: string }>;
  /** Sends mail or a nudge as a direct message. Throws `gastown_not_found` when the person cannot be reached. */
  sendDm(to: ChatRecipient, message: MailMessage): Promise<void>;
}
