import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleChat } from '../../src/chat/console-chat.js';
import { createSlackChat, createSlackChatClient } from '../../src/slack/slack-chat.js';
import { ACTION_APPROVE_PLAN, ACTION_REPLY_MAIL } from '../../src/slack/blocks.js';
import { isGastownError } from '../../src/errors.js';
import { feedEvent, fixtureJson, mail, recordingLogger, SLACK_API } from './helpers.js';

const client = createSlackChatClient({
  botToken: 'xoxb-test-token',
  apiUrl: `${SLACK_API}/api/`,
  clientOptions: { retryConfig: { retries: 0 } },
});
const posted = fixtureJson('chat-post-message.json');

function chat(opts: { sleeps?: number[]; identity?: Record<string, string> } = {}) {
  const logger = recordingLogger();
  const port = createSlackChat({
    client,
    feedChannel: 'C0FEED',
    identity: { slackUserFor: async (login) => opts.identity?.[login] ?? null },
    sleep: async (ms) => {
      opts.sleeps?.push(ms);
    },
    maxRateLimitRetries: 2,
    logger,
  });
  return { port, logger };
}

beforeAll(() => {
  nock.disableNetConnect();
});

afterAll(() => {
  nock.enableNetConnect();
});

afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe('Slack chat: feed', () => {
  it('posts a top-level message and returns its ts', async () => {
    let body: any;
    nock(SLACK_API)
      .post('/api/chat.postMessage', (b) => ((body = b), true))
      .reply(200, posted);

    const res = await chat().port.postFeedEvent(feedEvent(), null);

    expect(res).toEqual({ ts: '1503435956.000247' });
    expect(body.channel).toBe('C0FEED');
    expect(body.thread_ts).toBeUndefined();
    expect(body.text).toBe('mayor: slung gt-a1b2 to nux (gt-a1b2)');
    expect(JSON.parse(body.blocks)[0].type).toBe('section');
  });

  it('adds the approval buttons to a planned convoy', async () => {
    let body: any;
    nock(SLACK_API)
      .post('/api/chat.postMessage', (b) => ((body = b), true))
      .reply(200, posted);

    await chat().port.postFeedEvent(feedEvent({ type: 'convoy_planned', bead: null }), null);

    const blocks = JSON.parse(body.blocks);
    expect(blocks.map((b: any) => b.type)).toEqual(['section', 'actions']);
    expect(blocks[1].elements[0].action_id).toBe(ACTION_APPROVE_PLAN);
  });

  it('replies in the thread when given one', async () => {
    nock(SLACK_API)
      .post('/api/chat.postMessage', (b) => b.thread_ts === '1503435956.000247')
      .reply(200, { ...posted, ts: '1503435999.000100' });

    const res = await chat().port.postFeedEvent(feedEvent(), '1503435956.000247');

    expect(res.ts).toBe('1503435999.000100');
  });

  it('waits Retry-After on 429, then retries', async () => {
    const sleeps: number[] = [];
    nock(SLACK_API).post('/api/chat.postMessage').reply(429, {}, { 'retry-after': '2' }).post('/api/chat.postMessage').reply(200, posted);
    const { port, logger } = chat({ sleeps });

    const res = await port.postFeedEvent(feedEvent(), null);

    expect(res.ts).toBe('1503435956.000247');
    expect(sleeps).toEqual([2000]);
    expect(logger.lines).toContainEqual(expect.objectContaining({ level: 'warn', obj: expect.objectContaining({ retryAfter: 2 }) }));
  });

  it('gives up after the retry cap with a coded error', async () => {
    const sleeps: number[] = [];
    nock(SLACK_API).post('/api/chat.postMessage').times(3).reply(429, {}, { 'retry-after': '1' });

    const err = await chat({ sleeps })
      .port.postFeedEvent(feedEvent(), null)
      .catch((e: unknown) => e);

    expect(isGastownError(err, 'gastown_chat')).toBe(true);
    expect((err as Error).message).toMatch(/rate limited/);
    expect(sleeps).toEqual([1000, 1000]);
  });

  it('does not wait out an absurd Retry-After', async () => {
    const sleeps: number[] = [];
    nock(SLACK_API).post('/api/chat.postMessage').reply(429, {}, { 'retry-after': '3600' });

    await expect(chat({ sleeps }).port.postFeedEvent(feedEvent(), null)).rejects.toThrow(/retry after 3600s/);
    expect(sleeps).toEqual([]);
  });

  it('reports Slack API errors as gastown_chat with Slack’s error code', async () => {
    nock(SLACK_API).post('/api/chat.postMessage').reply(200, { ok: false, error: 'channel_not_found' });

    await expect(chat().port.postFeedEvent(feedEvent(), null)).rejects.toThrow('Slack chat.postMessage failed: channel_not_found');
  });
});

describe('Slack chat: DMs', () => {
  it('opens the DM of the login’s Slack user and posts the mail with a Reply button', async () => {
    let body: any;
    nock(SLACK_API)
      .post('/api/conversations.open', (b) => b.users === 'U0ADA')
      .reply(200, { ok: true, channel: { id: 'D0ADA' } })
      .post('/api/chat.postMessage', (b) => ((body = b), true))
      .reply(200, posted);

    await chat({ identity: { ada: 'U0ADA' } }).port.sendDm({ login: 'ada' }, mail());

    expect(body.channel).toBe('D0ADA');
    expect(body.text).toBe('Mail from nux: POLECAT_DONE');
    expect(JSON.parse(body.blocks)[1].elements[0].action_id).toBe(ACTION_REPLY_MAIL);
  });

  it('refuses a login with no Slack user, calling nothing', async () => {
    const err = await chat()
      .port.sendDm({ login: 'ghost' }, mail())
      .catch((e: unknown) => e);

    expect(isGastownError(err, 'gastown_not_found')).toBe(true);
  });

  it('takes a Slack user id directly', async () => {
    nock(SLACK_API)
      .post('/api/conversations.open', (b) => b.users === 'U0X')
      .reply(200, { ok: true, channel: { id: 'D0X' } })
      .post('/api/chat.postMessage', (b) => b.channel === 'D0X' && b.text === 'Nudge from mayor: hurry')
      .reply(200, posted);

    await chat().port.sendDm({ slackUser: 'U0X' }, mail({ kind: 'nudge', from: 'mayor', subject: '', body: 'hurry' }));
  });
});

describe('console chat', () => {
  it('prints feed lines naming their thread, indenting replies, and DMs', async () => {
    const lines: string[] = [];
    const port = createConsoleChat((l) => lines.push(l));

    const first = await port.postFeedEvent(feedEvent(), null);
    const second = await port.postFeedEvent(feedEvent({ id: 'ev-2', message: 'started', url: 'https://x.test/1' }), first.ts);
    await port.sendDm({ login: 'ada' }, mail());

    expect(first.ts).not.toBe(second.ts);
    const n = Number(first.ts.split('.').pop());
    expect(lines).toEqual([
      `[feed #${n}] mayor: slung gt-a1b2 to nux (gt-a1b2)`,
      `[feed #${n}]   ↳ mayor: started (gt-a1b2) https://x.test/1`,
      '[mail → ada] from nux: POLECAT_DONE: PR #7 is open',
    ]);
  });
});
