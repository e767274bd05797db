/**
 * The `ChatPort` contract (src/chat/chat-port.ts), as one suite every adapter runs. What it
 * states, from the port's comments:
 *
 * - `postFeedEvent(event, null)` posts a top-level message and answers its ts, on which later
 *   replies thread; `postFeedEvent(event, ts)` posts in that thread; every post answers a ts
 *   of its own and shows once more (not idempotent: the caller records what it posted);
 * - a feed event reads the same on every chat (`actor: message (subject)`);
 * - `sendDm` reaches a person by GitHub login (resolved by the adapter) or by chat user id,
 *   as mail or as a nudge, and throws `gastown_not_found` when the person cannot be reached.
 *
 * The suite sees each chat as a person reading it does, through `ChatView`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGastownError } from '../../../src/errors.js';
import type { ChatPort, ChatRecipient } from '../../../src/chat/chat-port.js';
import type { FeedEvent, MailMessage } from '../../../src/town/types.js';

/** The chat as a reader sees it. */
export interface ChatView {
  /** Feed messages in the order posted; a reply names the text of the message it is shown under. */
  feed(): { text: string; under: string | null }[];
  /** Direct messages in the order sent: who got it (as the chat names them) and its text. */
  dms(): { to: string; text: string }[];
}

export interface ChatFixture {
  /** A fresh adapter over the same chat. */
  chat(): ChatPort;
  view: ChatView;
  /** A person linked by GitHub login, and how the view names them. */
  person: { login: string; shownAs: string };
  /** A chat member addressed by chat user id, and how the view names them. */
  member: { slackUser: string; shownAs: string };
  /** Recipients this chat cannot reach (empty: it reaches everyone). */
  unreachable: ChatRecipient[];
  close(): Promise<void>;
}

const T = '2026-11-21T10:00:00.000Z';
let seq = 0;

function event(over: Partial<FeedEvent> = {}): FeedEvent {
  seq += 1;
  return {
    id: `ev-${seq}`,
    type: 'bead_slung',
    at: T,
    actor: 'mayor',
    bead: `gt-b${seq}`,
    convoy: 'cv-9z8y',
    message: `slung gt-b${seq} to nux`,
    url: null,
    ...over,
  };
}

function mail(over: Partial<MailMessage> = {}): MailMessage {
  seq += 1;
  return {
    id: `m-${seq}`,
    kind: 'mail',
    from: 'nux',
    to: 'octocat',
    subject: `POLECAT_DONE ${seq}`,
    body: 'PR #7 is open',
    type: 'POLECAT_DONE',
    bead: 'gt-a1b2',
    createdAt: T,
    ...over,
  };
}

/** How every chat shows a feed event: `actor: message (subject)`. */
const line = (e: FeedEvent) => `${e.actor}: ${e.message}${(e.bead ?? e.convoy) ? ` (${e.bead ?? e.convoy})` : ''}`;

export function chatPortSuite(name: string, makeFixture: () => Promise<ChatFixture>): void {
  describe(`ChatPort conformance: ${name}`, () => {
    let fx: ChatFixture;

    beforeAll(async () => {
      fx = await makeFixture();
    });
    afterAll(async () => {
      await fx?.close();
    });

    /** The feed messages posted since `from` (views keep everything). */
    const feedSince = (from: number) => fx.view.feed().slice(from);
    const dmsSince = (from: number) => fx.view.dms().slice(from);

    it('a top-level post answers the ts its replies thread on, even when threads interleave', async () => {
      const chat = fx.chat();
      const from = fx.view.feed().length;
      const a = event({ type: 'convoy_planned', bead: null, convoy: 'cv-a', message: 'planned Auth' });
      const b = event({ type: 'convoy_planned', bead: null, convoy: 'cv-b', message: 'planned Billing' });
      const a1 = event({ convoy: 'cv-a' });
      const b1 = event({ convoy: 'cv-b' });
      const a2 = event({ convoy: 'cv-a', type: 'merged' });

      const tsA = (await chat.postFeedEvent(a, null)).ts;
      const tsB = (await chat.postFeedEvent(b, null)).ts;
      const replies = [await chat.postFeedEvent(a1, tsA), await chat.postFeedEvent(b1, tsB), await chat.postFeedEvent(a2, tsA)];

      const all = [tsA, tsB, ...replies.map((r) => r.ts)];
      for (const ts of all) expect(ts).toMatch(/\S/);
      expect(new Set(all).size).toBe(5);
      expect(feedSince(from)).toEqual([
        { text: expect.stringContaining(line(a)), under: null },
        { text: expect.stringContaining(line(b)), under: null },
        { text: expect.stringContaining(line(a1)), under: expect.stringContaining(line(a)) },
        { text: expect.stringContaining(line(b1)), under: expect.stringContaining(line(b)) },
        { text: expect.stringContaining(line(a2)), under: expect.stringContaining(line(a)) },
      ]);
    });

    it('a fresh adapter replies in a thread an earlier one opened (thread ts are kept in the ledger)', async () => {
      const from = fx.view.feed().length;
      const before = event({ type: 'convoy_planned', bead: null, convoy: 'cv-r', message: 'planned before the restart' });
      const after = event({ type: 'convoy_planned', bead: null, convoy: 'cv-s', message: 'planned after the restart' });
      const reply = event({ convoy: 'cv-r' });

      const ts = (await fx.chat().postFeedEvent(before, null)).ts;
      const other = (await fx.chat().postFeedEvent(after, null)).ts;
      await fx.chat().postFeedEvent(reply, ts);

      expect(other).not.toBe(ts);
      expect(feedSince(from)).toEqual([
        { text: expect.stringContaining(line(before)), under: null },
        { text: expect.stringContaining(line(after)), under: null },
        { text: expect.stringContaining(line(reply)), under: expect.stringContaining(line(before)) },
      ]);
    });

    it('posting the same event twice shows it twice (not idempotent)', async () => {
      const chat = fx.chat();
      const from = fx.view.feed().length;
      const e = event();

      const one = await chat.postFeedEvent(e, null);
      const two = await chat.postFeedEvent(e, null);

      expect(one.ts).not.toBe(two.ts);
      expect(feedSince(from).map((m) => m.text)).toEqual([expect.stringContaining(line(e)), expect.stringContaining(line(e))]);
    });

    it('a feed event without a bead names its convoy, and one without either names neither', async () => {
      const chat = fx.chat();
      const from = fx.view.feed().length;
      const convoyOnly = event({ type: 'convoy_landed', bead: null, convoy: 'cv-land', message: 'landed' });
      const bare = event({ type: 'convoy_landed', bead: null, convoy: null, message: 'all quiet' });

      await chat.postFeedEvent(convoyOnly, null);
      await chat.postFeedEvent(bare, null);

      const texts = feedSince(from).map((m) => m.text);
      expect(texts[0]).toContain('mayor: landed (cv-land)');
      expect(texts[1]).toContain('mayor: all quiet');
      expect(texts[1]).not.toContain('(');
    });

    it('sendDm reaches a person by GitHub login and a member by chat user id, as mail or nudge', async () => {
      const chat = fx.chat();
      const from = fx.view.dms().length;
      const m = mail();
      const n = mail({ kind: 'nudge', from: 'mayor', subject: '', body: 'Are you stuck on gt-a1b2?', type: null });

      await chat.sendDm({ login: fx.person.login }, m);
      await chat.sendDm({ slackUser: fx.member.slackUser }, n);

      const got = dmsSince(from);
      expect(got.map((d) => d.to)).toEqual([fx.person.shownAs, fx.member.shownAs]);
      expect(got[0]!.text.toLowerCase()).toContain('mail');
      expect(got[0]!.text).toContain('nux');
      expect(got[0]!.text).toContain(m.subject);
      expect(got[1]!.text.toLowerCase()).toContain('nudge');
      expect(got[1]!.text).toContain('mayor');
      // No subject: the body speaks for itself.
      expect(got[1]!.text).toContain('Are you stuck on gt-a1b2?');
    });

    it('sendDm to someone it cannot reach throws gastown_not_found and delivers nothing', async () => {
      const chat = fx.chat();
      const from = fx.view.dms().length;

      const errors = [];
      for (const to of fx.unreachable)
        errors.push(
          await chat.sendDm(to, mail()).then(
            () => null,
            (e: unknown) => e,
          ),
        );

      for (const err of errors) expect(isGastownError(err, 'gastown_not_found'), String(err)).toBe(true);
      expect(dmsSince(from)).toEqual([]);
    });
  });
}
