import { webApi } from '@slack/bolt';
import { GastownError } from '../errors.js';
import { feedEventActions, feedEventBlocks, feedEventText, type Links, mailDmBlocks, noLinks } from './blocks.js';
import { silentLogger, type StructuredLogger } from '../structured-logger.js';
import type { ChatPort, ChatRecipient } from '../chat/chat-port.js';

export interface SlackChatOptions {
  /** Build it with `createSlackChatClient` so 429s reach the retry loop here instead of queuing for minutes. */
  client: webApi.WebClient;
  /** Channel id of the feed. */
  feedChannel: string;
  /** Turns a GitHub login into a Slack user for DMs (the IdentityResolver satisfies it). */
  identity: { slackUserFor(login: string): Promise<string | null> };
  links?: Links;
  /** Retries after a 429, each after Slack's Retry-After. */
  maxRateLimitRetries?: number;
  /** Longest Retry-After we wait; a longer one fails the call (the caller retries later). */
  maxRetryAfterSeconds?: number;
  sleep?: (ms: number) => Promise<void>;
  logger?: StructuredLogger;
}

/** A WebClient whose rate-limited calls reject at once with their Retry-After (handled by createSlackChat). */
export function createSlackChatClient(args: {
  botToken: string;
  apiUrl?: string;
  clientOptions?: webApi.WebClientOptions;
}): webApi.WebClient {
  return new webApi.WebClient(args.botToken, {
    retryConfig: { retries: 2 },
    ...args.clientOptions,
    ...(args.apiUrl !== undefined ? { slackApiUrl: args.apiUrl } : {}),
    rejectRateLimitedCalls: true,
  });
}

/** conversations.open's answers for a person no DM can reach. */
const UNREACHABLE = new Set(['user_not_found', 'user_disabled', 'user_not_visible']);

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function rateLimitOf(err: unknown): number | null {
  const e = err as { code?: string; retryAfter?: number };
  return e?.code === webApi.ErrorCode.RateLimitedError && typeof e.retryAfter === 'number' ? e.retryAfter : null;
}

function slackErrorText(err: unknown): string {
  const e = err as { data?: { error?: string }; message?: string };
  return e?.data?.error ?? e?.message ?? String(err);
}

export function createSlackChat(opts: SlackChatOptions): ChatPort {
  const { client } = opts;
  const links = opts.links ?? noLinks;
  const maxRetries = opts.maxRateLimitRetries ?? 3;
  const maxWait = opts.maxRetryAfterSeconds ?? 60;
  const sleep = opts.sleep ?? defaultSleep;
  const logger = opts.logger ?? silentLogger;

  /** Calls Slack; on 429 waits Retry-After and retries, up to the cap; other failures become gastown_chat. */
  async function call<T>(method: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await fn();
      } catch (err) {
        const retryAfter = rateLimitOf(err);
        if (retryAfter === null) {
          throw new GastownError('gastown_chat', `Slack ${method} failed: ${slackErrorText(err)}`, { method }, { cause: err });
        }
        if (attempt >= maxRetries || retryAfter > maxWait) {
          throw new GastownError(
            'gastown_chat',
            `Slack ${method} is rate limited (retry after ${retryAfter}s)`,
            { method, retryAfter },
            { cause: err },
          );
        }
        logger.warn({ method, retryAfter, attempt: attempt + 1 }, 'slack rate limited; waiting');
        await sleep(retryAfter * 1000);
      }
    }
  }

  async function slackUserOf(to: ChatRecipient): Promise<string> {
    if ('slackUser' in to) return to.slackUser;
    const user = await opts.identity.slackUserFor(to.login);
    if (user === null) {
      throw new GastownError('gastown_not_found', `No Slack user is linked to ${to.login}`, { login: to.login });
    }
    return user;
  }

  return {
    async postFeedEvent(event, thread) {
      const res = await call('chat.postMessage', () =>
        client.chat.postMessage({
          channel: opts.feedChannel,
          text: feedEventText(event),
          blocks: [...feedEventBlocks(event, links), ...feedEventActions(event)],
          unfurl_links: false,
          ...(thread !== null ? { thread_ts: thread } : {}),
        }),
      );
      if (!res.ts) throw new GastownError('gastown_chat', 'Slack chat.postMessage returned no ts');
      return { ts: res.ts };
    },

    async sendDm(to, message) {
      const user = await slackUserOf(to);
      const opened = await call('conversations.open', () => client.conversations.open({ users: user })).catch((err: unknown) => {
        // Gone from the workspace (or never in it): the person cannot be reached, which a retry will not change.
        const code = slackErrorText((err as { cause?: unknown }).cause);
        if (UNREACHABLE.has(code))
          throw new GastownError(
            'gastown_not_found',
            `Slack user ${user} cannot be reached (${code})`,
            { slackUser: user, code },
            { cause: err },
          );
        throw err;
      });
      const channel = opened.channel?.id;
      if (!channel) throw new GastownError('gastown_chat', 'Slack conversations.open returned no channel');
      const label = message.kind === 'nudge' ? 'Nudge' : 'Mail';
      await call('chat.postMessage', () =>
        client.chat.postMessage({
          channel,
          text: `${label} from ${message.from}: ${message.subject || message.body.slice(0, 150)}`,
          blocks: mailDmBlocks(message),
        }),
      );
    },
  };
}
