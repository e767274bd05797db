import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSlackChat, createSlackChatClient } from '../../src/slack/slack-chat.js';
import { sendMail } from '../../src/rig/mail.js';
import { sling } from '../../src/rig/sling.js';
import { ACTION_REPLY_MAIL } from '../../src/slack/blocks.js';
import { createFeedPump, FEED_CURSOR_DOC, SLACK_THREAD } from '../../src/slack/feed-pump.js';
import { createMailDmPump } from '../../src/slack/mail-dm-pump.js';
import type { Convoy } from '../../src/town/types.js';
import { recordingLogger, SLACK_API } from './helpers.js';
import { recordConvoy, tempRig, type TempRig } from './rig-fixture.js';

const client = createSlackChatClient({
  botToken: 'xoxb-test-token',
  apiUrl: `${SLACK_API}/api/`,
  clientOptions: { retryConfig: { retries: 0 } },
});
const identity = { slackUserFor: async (login: string) => (login === 'octocat' ? 'U0OCTO' : null) };
const chat = createSlackChat({ client, feedChannel: 'C0FEED', identity, sleep: async () => {} });

interface Post {
  channel: string;
  text: string;
  thread_ts?: string;
  blocks: any[];
  ts: string;
}

/** A stand-in chat.postMessage: records every post and answers with a fresh ts. */
function slackPosts(times: number): Post[] {
  const posts: Post[] = [];
  nock(SLACK_API)
    .post('/api/chat.postMessage')
    .times(times)
    .reply(200, (_uri, raw) => {
      const body = Object.fromEntries(new URLSearchParams(String(raw))) as Record<string, string>;
      const ts = `1700000000.${String(posts.length + 1).padStart(6, '0')}`;
      posts.push({ channel: body.channel, text: body.text, thread_ts: body.thread_ts, blocks: JSON.parse(body.blocks), ts });
      return { ok: true, channel: body.channel, ts };
    });
  return posts;
}

let town: TempRig;

beforeAll(() => {
  nock.disableNetConnect();
});

afterAll(() => {
  nock.enableNetConnect();
});

beforeEach(async () => {
  town = await tempRig();
});

afterEach(async () => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  await town.cleanup();
  expect(pending).toEqual([]);
});

describe('feed pump', () => {
  it('posts the events of two convoys into two threads, and a restarted pump posts nothing twice', async () => {
    const [a, b] = await town.rig(async (rig) => [await recordConvoy(rig, 'Alpha'), await recordConvoy(rig, 'Beta')]);
    await town.rig(async (rig) => {
      await sling(rig, a.beads[0]!.id, 'nux');
      await sling(rig, b.beads[0]!.id, 'slit');
    });
    const posts = slackPosts(4);
    const logger = recordingLogger();

    const [first] = await createFeedPump({ provider: town.provider, chat, backfill: true, logger }).run();

    expect(first).toMatchObject({ posted: 4 });
    expect(posts.map((p) => [p.text.includes('Alpha') || p.text.includes(a.beads[0]!.id) ? 'A' : 'B', p.thread_ts ?? 'root'])).toEqual([
      ['A', 'root'],
      ['B', 'root'],
      ['A', posts[0]!.ts],
      ['B', posts[1]!.ts],
    ]);
    expect(posts.every((p) => p.channel === 'C0FEED')).toBe(true);
    const threads = await town.rig(async (rig) =>
      Promise.all([a, b].map(async (c) => (await rig.ledger.get<Convoy>('convoys', c.convoy.id))!.value.marks?.[SLACK_THREAD])),
    );
    expect(threads).toEqual([posts[0]!.ts, posts[1]!.ts]);

    // A restart: a new process opens the same ledger and a new pump; nothing is posted again.
    const restarted = town.reopen();
    const [again] = await createFeedPump({ provider: restarted, chat, backfill: true }).run();
    expect(again).toMatchObject({ posted: 0 });

    // New work in convoy Alpha lands in Alpha's thread, once.
    await restarted.withRig(null, (rig) => sling(rig, a.beads[1]!.id, 'toast'));
    const more = slackPosts(1);
    const [third] = await createFeedPump({ provider: restarted, chat }).run();
    expect(third).toMatchObject({ posted: 1 });
    expect(more[0]).toMatchObject({ thread_ts: posts[0]!.ts });
    expect(more[0]!.text).toContain(a.beads[1]!.id);
  });

  it('never runs twice at once: concurrent runs post each event once', async () => {
    await town.rig((rig) => recordConvoy(rig, 'Gamma'));
    const posts = slackPosts(1);
    const pump = createFeedPump({ provider: town.provider, chat, backfill: true });

    const running = pump.run();
    await new Promise((r) => setImmediate(r));
    const queued = [pump.run(), pump.run()];

    expect(queued[0]).toBe(queued[1]); // calls while one run is queued share it
    const [[first], [second]] = await Promise.all([running, queued[0]!]);
    expect(posts).toHaveLength(1);
    expect([first!.posted, second!.posted]).toEqual([1, 0]);
  });

  it('starts at the end of an existing feed unless asked to backfill, and keeps the cursor in the ledger', async () => {
    const c = await town.rig((rig) => recordConvoy(rig, 'Delta'));

    const [first] = await createFeedPump({ provider: town.provider, chat }).run();

    expect(first).toMatchObject({ posted: 0 });
    const cursor = await town.rig(async (rig) => (await rig.ledger.get<{ cursor: string }>('meta', FEED_CURSOR_DOC))!.value.cursor);
    expect(cursor).toMatch(/^ev-/);
    await town.rig((rig) => sling(rig, c.beads[0]!.id, 'nux'));
    const posts = slackPosts(1);
    await createFeedPump({ provider: town.provider, chat }).run();
    // The convoy's planned event came before the pump: its first post starts the thread.
    expect(posts[0]!.thread_ts).toBeUndefined();
    expect(posts[0]!.text).toContain(c.beads[0]!.id);
  });

  it('keeps the cursor on a failed post and delivers that event on the next run', async () => {
    await town.rig((rig) => recordConvoy(rig, 'Epsilon'));
    nock(SLACK_API).post('/api/chat.postMessage').reply(200, { ok: false, error: 'channel_not_found' });
    const logger = recordingLogger();
    const pump = createFeedPump({ provider: town.provider, chat, backfill: true, logger });

    const failed = await pump.run();
    const posts = slackPosts(1);
    const retried = await pump.run();

    expect(failed).toEqual([]);
    expect(logger.lines.some((l) => l.msg === 'slack feed run failed' && l.obj.code === 'gastown_chat')).toBe(true);
    expect(retried[0]).toMatchObject({ posted: 1 });
    expect(posts[0]!.text).toContain('Epsilon');
  });

  it('skips to the end, loudly, when its cursor is no longer in the feed', async () => {
    await town.rig((rig) => recordConvoy(rig, 'Zeta'));
    await town.rig((rig) =>
      rig.ledger.transact((tx) => tx.put('meta', FEED_CURSOR_DOC, { cursor: 'ev-gone', cursorAt: new Date().toISOString() })),
    );
    const logger = recordingLogger();

    const [result] = await createFeedPump({ provider: town.provider, chat, logger }).run();

    expect(result).toMatchObject({ posted: 0, skipped: 1 });
    expect(logger.lines.find((l) => l.level === 'error')).toMatchObject({
      msg: 'slack feed cursor not found in the feed; skipping to the end',
      obj: { cursor: 'ev-gone' },
    });
    const cursor = await town.rig(async (rig) => (await rig.ledger.get<{ cursor: string }>('meta', FEED_CURSOR_DOC))!.value.cursor);
    expect(cursor).toBe(result!.cursor);
  });
});

describe('mail DM pump', () => {
  it('sends mail for a linked person as a DM with a Reply button, exactly once', async () => {
    const pump = createMailDmPump({ provider: town.provider, chat, identity });
    await pump.run(); // first run: remembers when it started
    const m = await town.rig(async (rig) => {
      await sendMail(rig, { from: 'nux', to: 'nux', subject: 'note to self', body: '' });
      return sendMail(rig, { from: 'nux', to: 'octocat', subject: 'POLECAT_DONE', body: 'PR #7 is open', bead: null });
    });
    let opened: any;
    nock(SLACK_API)
      .post('/api/conversations.open', (b) => ((opened = b), true))
      .reply(200, { ok: true, channel: { id: 'D0OCTO' } });
    const posts = slackPosts(1);

    const [result] = await pump.run();
    const [afterRestart] = await createMailDmPump({ provider: town.reopen(), chat, identity }).run();

    expect(result).toEqual({ sent: 1, skipped: 0 });
    expect(opened.users).toBe('U0OCTO');
    expect(posts[0]!.channel).toBe('D0OCTO');
    const button = posts[0]!.blocks.find((b) => b.type === 'actions').elements[0];
    expect(button.action_id).toBe(ACTION_REPLY_MAIL);
    expect(JSON.parse(button.value)).toEqual({ mail: m.id, to: 'nux', bead: null });
    expect(afterRestart).toEqual({ sent: 0, skipped: 0 });
  });
});
