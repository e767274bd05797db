import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatPort } from '../../src/chat/chat-port.js';
import { createSlackChat, createSlackChatClient } from '../../src/slack/slack-chat.js';
import { deliverFeed, type FeedCursor, type FeedThreads } from '../../src/slack/deliver-feed.js';
import { isGastownError } from '../../src/errors.js';
import type { FeedEvent } from '../../src/town/types.js';
import { feedEvent, SLACK_API } from './helpers.js';

/** In-memory stand-ins for the ledger-backed stores the caller passes in. */
function memoryCursor(): FeedCursor & { writes: string[] } {
  let value: string | null = null;
  const writes: string[] = [];
  return {
    writes,
    get: async () => value,
    set: async (id) => {
      writes.push(id);
      value = id;
    },
  };
}

function memoryThreads(): FeedThreads & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return { map, get: async (c) => map.get(c) ?? null, set: async (c, ts) => void map.set(c, ts) };
}

interface Post {
  text: string;
  thread_ts?: string;
}

/** A fake Slack Web API that numbers each posted message; `failOn` answers one post with an error. */
function slackApi(opts: { failOn?: (p: Post) => boolean } = {}) {
  const posts: Post[] = [];
  let seq = 100;
  const scope = nock(SLACK_API)
    .persist()
    .post('/api/chat.postMessage')
    .reply((_uri, body) => {
      // WebClient posts form-encoded bodies; nock hands the reply function the raw string.
      const b = Object.fromEntries(new URLSearchParams(String(body)));
      const post: Post = { text: b.text!, ...(b.thread_ts ? { thread_ts: b.thread_ts } : {}) };
      if (opts.failOn?.(post)) return [200, { ok: false, error: 'internal_error' }];
      posts.push(post);
      seq += 1;
      return [200, { ok: true, channel: 'C0FEED', ts: `1700000000.000${seq}` }];
    });
  return { posts, scope };
}

const client = createSlackChatClient({
  botToken: 'xoxb-test-token',
  apiUrl: `${SLACK_API}/api/`,
  clientOptions: { retryConfig: { retries: 0 } },
});

function slackChat(): ChatPort {
  return createSlackChat({ client, feedChannel: 'C0FEED', identity: { slackUserFor: async () => null } });
}

const events: FeedEvent[] = [
  feedEvent({ id: 'e1', convoy: 'cv-a', bead: null, type: 'convoy_planned', message: 'planned A' }),
  feedEvent({ id: 'e2', convoy: 'cv-b', bead: null, type: 'convoy_planned', message: 'planned B' }),
  feedEvent({ id: 'e3', convoy: 'cv-a', bead: 'gt-0001', message: 'slung A1' }),
  feedEvent({ id: 'e4', convoy: null, bead: null, type: 'mail_sent', message: 'loose mail' }),
  feedEvent({ id: 'e5', convoy: 'cv-b', bead: 'gt-0002', message: 'slung B1' }),
  feedEvent({ id: 'e6', convoy: 'cv-a', bead: null, type: 'convoy_landed', message: 'landed A' }),
];

beforeAll(() => {
  nock.disableNetConnect();
});

afterAll(() => {
  nock.enableNetConnect();
});

afterEach(() => {
  nock.cleanAll();
});

describe('deliverFeed', () => {
  it('posts in order, one thread per convoy, loose events top-level', async () => {
    const api = slackApi();
    const cursor = memoryCursor();
    const threads = memoryThreads();

    const result = await deliverFeed({ events: async () => events, cursor, threads, chat: slackChat() });

    expect(result).toEqual({ posted: 6, skipped: 0, cursor: 'e6' });
    expect(
      api.posts.map((p) =>
        p.text
          .match(/: (.*) \(|: (.*)$/)!
          .slice(1)
          .find(Boolean),
      ),
    ).toEqual(['planned A', 'planned B', 'slung A1', 'loose mail', 'slung B1', 'landed A']);
    const [a, b] = [threads.map.get('cv-a'), threads.map.get('cv-b')];
    expect(a).toBe('1700000000.000101');
    expect(b).toBe('1700000000.000102');
    expect(api.posts.map((p) => p.thread_ts)).toEqual([undefined, undefined, a, undefined, b, a]);
    expect(cursor.writes).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
  });

  it('delivers each event exactly once across a restart', async () => {
    const api = slackApi();
    const cursor = memoryCursor();
    const threads = memoryThreads();
    const chat = slackChat();

    await deliverFeed({ events: async () => events.slice(0, 3), cursor, threads, chat });
    // "Restart": a new call with the same persisted stores and more events in the ledger.
    const again = await deliverFeed({ events: async () => events, cursor, threads, chat: slackChat() });
    const idle = await deliverFeed({ events: async () => events, cursor, threads, chat: slackChat() });

    expect(api.posts).toHaveLength(6);
    expect(again).toEqual({ posted: 3, skipped: 0, cursor: 'e6' });
    expect(idle).toEqual({ posted: 0, skipped: 0, cursor: 'e6' });
    // The convoy that started before the restart keeps its thread.
    expect(api.posts[5]!.thread_ts).toBe(threads.map.get('cv-a'));
  });

  it('stops at a failed post with the cursor on the last success, and resumes there', async () => {
    let failing = true;
    const api = slackApi({ failOn: (p) => failing && p.text.includes('slung B1') });
    const cursor = memoryCursor();
    const threads = memoryThreads();

    const err = await deliverFeed({ events: async () => events, cursor, threads, chat: slackChat() }).catch((e: unknown) => e);
    failing = false;
    const resumed = await deliverFeed({ events: async () => events, cursor, threads, chat: slackChat() });

    expect(isGastownError(err, 'gastown_chat')).toBe(true);
    expect(resumed).toEqual({ posted: 2, skipped: 0, cursor: 'e6' });
    expect(api.posts.map((p) => p.text)).toHaveLength(6);
    expect(new Set(api.posts.map((p) => p.text)).size).toBe(6);
  });

  it('skips filtered events but moves the cursor past them', async () => {
    const api = slackApi();
    const cursor = memoryCursor();

    const result = await deliverFeed({
      events: async () => events,
      cursor,
      threads: memoryThreads(),
      chat: slackChat(),
      filter: (e) => e.type !== 'convoy_landed' && e.type !== 'mail_sent',
    });

    expect(result).toEqual({ posted: 4, skipped: 2, cursor: 'e6' });
    expect(api.posts).toHaveLength(4);
    expect(cursor.writes).toEqual(['e1', 'e2', 'e3', 'e5', 'e6']);
  });

  it('refuses a cursor that is not among the events instead of reposting everything', async () => {
    const api = slackApi();
    const cursor = memoryCursor();
    await cursor.set('gone');

    const err = await deliverFeed({ events: async () => events, cursor, threads: memoryThreads(), chat: slackChat() }).catch(
      (e: unknown) => e,
    );

    expect(isGastownError(err, 'gastown_not_found')).toBe(true);
    expect(api.posts).toHaveLength(0);
  });
});
