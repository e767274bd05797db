import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { allBeads, createBead, getBead } from '../../src/rig/beads.js';
import { inbox, sendMail } from '../../src/rig/mail.js';
import type { Rig } from '../../src/rig/rig.js';
import { attachSlack, type SlackHandle } from '../../src/slack/attach-slack.js';
import { usageText } from '../../src/slack/parse-command.js';
import type { NodeHandler } from '../../src/slack/slack-http-receiver.js';
import type { Convoy, Hook } from '../../src/town/types.js';
import {
  captureResponses,
  post,
  recordingLogger,
  SIGNING_SECRET,
  SLACK_API,
  signedHeaders,
  slashCommandBody,
  startServer,
  type TestServer,
} from './helpers.js';
import { gt as runGt } from '../cli/run-gt.js';
import { recordConvoy, REPO, tempRig, type TempRig } from './rig-fixture.js';
import { SLACK_THREAD } from '../../src/slack/feed-pump.js';

const WRITER = 'UWRITER1';
const READER = 'UREADER1';

const env = {
  SLACK_BOT_TOKEN: 'xoxb-test-token',
  SLACK_SIGNING_SECRET: SIGNING_SECRET,
  SLACK_API_URL: `${SLACK_API}/api/`,
  SLACK_BOT_ID: 'B0BOT',
  SLACK_BOT_USER_ID: 'U0BOT',
  SLACK_USER_MAP: `${WRITER}:octocat,${READER}:hubot`,
};

let town: TempRig;
let slack: SlackHandle;
let server: TestServer;

/** Sends `/gt <text>` as `user`, signed, and returns the one reply posted to the response_url. */
async function gt(text: string, user = WRITER): Promise<Record<string, any>> {
  const { bodies } = captureResponses(1);
  const body = slashCommandBody(text, user);
  const res = await post(server.url, body, signedHeaders(body));
  expect(res.status).toBe(200);
  return (await bodies)[0]!;
}

const inRig = <T>(fn: (rig: Rig) => Promise<T>) => town.rig(fn);

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});

afterAll(() => {
  nock.enableNetConnect();
});

beforeEach(async () => {
  town = await tempRig({ writers: ['octocat'] });
  let handler: NodeHandler | undefined;
  const attached = await attachSlack({
    env,
    addHandler: (h) => (handler = h),
    logger: recordingLogger(),
    provider: town.provider,
    pumpIntervalMs: 3_600_000,
    clientOptions: { retryConfig: { retries: 0 } },
  });
  slack = attached!;
  server = await startServer(handler!);
  // The DM pump's first run (started by attachSlack) records its start in the ledger: let it settle.
  await slack.mailPump.run();
});

afterEach(async () => {
  await slack.stop();
  await server.close();
  const pending = nock.pendingMocks();
  nock.cleanAll();
  await town.cleanup();
  expect(pending).toEqual([]);
});

describe('attachSlack', () => {
  it('does nothing when Slack is not configured', async () => {
    const none = await attachSlack({
      env: {},
      logger: recordingLogger(),
      provider: town.provider,
      addHandler: () => expect.fail('no handler'),
    });

    expect(none).toBeNull();
  });
});

describe('attachSlack with a feed channel', () => {
  it('posts a sling made from Slack to the feed, in its convoy’s thread', async () => {
    await slack.stop();
    const c = await inRig((rig) => recordConvoy(rig, 'Feedy'));
    const posts: Record<string, string>[] = [];
    let posted!: () => void;
    const done = new Promise<void>((r) => (posted = r));
    nock(SLACK_API)
      .post('/api/chat.postMessage')
      .reply(200, (_uri, raw) => {
        posts.push(Object.fromEntries(new URLSearchParams(String(raw))));
        posted();
        return { ok: true, ts: '1700000000.000100' };
      });
    let handler: NodeHandler | undefined;
    slack = (await attachSlack({
      env: { ...env, SLACK_FEED_CHANNEL: 'C0FEED' },
      addHandler: (h) => (handler = h),
      logger: recordingLogger(),
      provider: town.provider,
      pumpIntervalMs: 3_600_000,
      clientOptions: { retryConfig: { retries: 0 } },
    }))!;
    await server.close();
    server = await startServer(handler!);
    await slack.feedPump!.run(); // the first run starts at the end of the existing feed

    await gt(`sling ${c.beads[0]!.id} nux`);
    await done;
    await slack.feedPump!.run(); // after the nudged run has recorded the thread

    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatchObject({ channel: 'C0FEED', text: `octocat: ${c.beads[0]!.id} slung to nux (${c.beads[0]!.id})` });
    expect(posts[0]!.thread_ts).toBeUndefined();
    const convoy = await inRig(async (rig) => (await rig.ledger.get<Convoy>('convoys', c.convoy.id))!.value);
    expect(convoy.marks?.[SLACK_THREAD]).toBe('1700000000.000100');
  });
});

describe('/gt over signed HTTP with the real services over a real rig', () => {
  it('status shows the convoys and bead counts of the rig', async () => {
    const c = await inRig((rig) => recordConvoy(rig, 'Alpha'));

    const reply = await gt('status');

    const text = JSON.stringify(reply.blocks);
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.blocks[0].text.text).toBe(`Gas Town status for ${REPO}`);
    expect(text).toContain(c.convoy.id);
    expect(text).toContain('open 2');
  });

  it('ready lists the ready beads', async () => {
    const c = await inRig((rig) => recordConvoy(rig, 'Chain', { chained: true }));

    const reply = await gt('ready');

    expect(reply.text).toContain('*1 ready:*');
    expect(reply.text).toContain(c.beads[0]!.id);
    expect(reply.text).not.toContain(c.beads[1]!.id);
  });

  it('sling by a writer hooks the bead in the ledger', async () => {
    const b = await inRig((rig) => createBead(rig, { title: 'Fix the login form' }));

    const reply = await gt(`sling ${b.id} nux`);

    expect(reply.response_type).toBe('in_channel');
    expect(reply.text).toContain('slung to *nux* by octocat');
    const [bead, hook] = await inRig(async (rig) => [await getBead(rig, b.id), (await rig.ledger.get<Hook>('hooks', 'nux'))?.value]);
    expect(bead).toMatchObject({ status: 'hooked', assignee: 'nux' });
    expect(hook).toMatchObject({ bead: b.id, slungBy: 'octocat' });
  });

  it('sling by a reader is refused and leaves the ledger unchanged', async () => {
    const b = await inRig((rig) => createBead(rig, { title: 'Fix the login form' }));
    const before = await inRig(async (rig) => [...(await rig.ledger.refs()).entries()].sort());

    const reply = await gt(`sling ${b.id}`, READER);

    expect(reply.text).toContain(`Only people with write access to ${REPO} can sling ${b.id}; hubot has only read access.`);
    const after = await inRig(async (rig) => [...(await rig.ledger.refs()).entries()].sort());
    expect(after).toEqual(before);
  });

  it('approve activates a plan awaiting approval and slings its ready beads', async () => {
    const c = await inRig((rig) => recordConvoy(rig, 'Gated', { requireApproval: true }));

    const reply = await gt(`approve ${c.convoy.id}`);

    expect(reply.text).toBe(`Convoy \`${c.convoy.id}\` approved by octocat; beads will be slung.`);
    const [convoy, beads] = await inRig(async (rig) => [
      (await rig.ledger.get<Convoy>('convoys', c.convoy.id))!.value,
      await allBeads(rig),
    ]);
    expect(convoy).toMatchObject({ status: 'active', approved: true, approvedBy: 'octocat' });
    expect(beads.map((b) => b.status)).toEqual(['hooked', 'hooked']);
  });

  it('stop stops the convoy and takes its beads off their hooks', async () => {
    const c = await inRig((rig) => recordConvoy(rig, 'Running'));
    await gt(`sling ${c.beads[0]!.id} nux`);

    const reply = await gt(`stop ${c.convoy.id}`);

    expect(reply.text).toBe(`Convoy \`${c.convoy.id}\` stopped by octocat.`);
    const [convoy, bead, hook] = await inRig(async (rig) => [
      (await rig.ledger.get<Convoy>('convoys', c.convoy.id))!.value,
      await getBead(rig, c.beads[0]!.id),
      (await rig.ledger.get<Hook>('hooks', 'nux'))!.value,
    ]);
    expect(convoy.status).toBe('stopped');
    expect(bead.status).toBe('open');
    expect(hook.bead).toBeNull();
  });

  it('nudge lands in the polecat’s ledger inbox', async () => {
    const b = await inRig((rig) => createBead(rig, { title: 'Fix the login form' }));
    await gt(`sling ${b.id} nux`);

    const reply = await gt('nudge nux please rebase on main first');

    expect(reply.text).toContain('Nudged *nux*');
    const messages = await inRig((rig) => inbox(rig, 'nux'));
    expect(messages).toMatchObject([{ kind: 'nudge', from: 'octocat', to: 'nux', body: 'please rebase on main first', read: false }]);
  });

  it('mail inbox shows the same messages as the rig’s inbox(), and each mail reaches its person as a DM', async () => {
    const dms: string[] = [];
    nock(SLACK_API)
      .post('/api/conversations.open')
      .times(3)
      .reply(200, (_uri, raw) => ({ ok: true, channel: { id: `D-${new URLSearchParams(String(raw)).get('users')}` } }))
      .post('/api/chat.postMessage')
      .times(3)
      .reply(200, (_uri, raw) => {
        const form = new URLSearchParams(String(raw));
        dms.push(`${form.get('channel')}: ${form.get('text')}`);
        return { ok: true, ts: '1700000000.000001' };
      });
    await inRig(async (rig) => {
      await sendMail(rig, { from: 'nux', to: 'octocat', subject: 'POLECAT_DONE gt-aaaa', body: 'PR is open' });
      await sendMail(rig, { from: 'slit', to: 'octocat', subject: 'Need a decision', body: 'Which table?' });
      await sendMail(rig, { from: 'slit', to: 'hubot', subject: 'Not for octocat', body: '' });
    });

    const reply = await gt('mail inbox');

    const expected = await inRig((rig) => inbox(rig, 'octocat'));
    expect(expected).toHaveLength(2);
    // `gt mail inbox` run as octocat (its own inbox) lists the very same messages.
    const cli = (await runGt(town.dir, ['mail', 'inbox', '--json'], { actor: 'octocat' })).json<{ id: string }[]>();
    expect(cli.map((m) => m.id)).toEqual(expected.map((m) => m.id));
    expect(reply.text).toBe([`*Inbox (${expected.length}):*`, ...expected.map((m) => `• *${m.from}* ${m.subject}`)].join('\n'));
    await slack.mailPump.run();
    expect(dms.sort()).toEqual([
      `D-${READER}: Mail from slit: Not for octocat`,
      `D-${WRITER}: Mail from nux: POLECAT_DONE gt-aaaa`,
      `D-${WRITER}: Mail from slit: Need a decision`,
    ]);
  });

  it('answers bad input with the usage', async () => {
    const reply = await gt('sling not-a-bead');

    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toContain('is not a bead id');
    expect(reply.text).toContain(usageText());
  });

  it('refuses an unsigned request', async () => {
    const body = slashCommandBody('status');

    const res = await post(server.url, body, signedHeaders(body, { secret: 'wrong-secret' }));

    expect(res.status).toBe(401);
  });
});
