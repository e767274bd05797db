/**
 * A loopback stand-in for Slack's Web API (test-only code), on 127.0.0.1 with a port of its
 * own: `POST /api/<method>` with the bot token as `Authorization: Bearer`, form or JSON
 * bodies, and Slack's answers (`{ ok: true, ... }` or `{ ok: false, error }` with HTTP 200).
 * It knows a workspace (members, channels), keeps every posted message with its `ts`, and
 * answers only the methods the app's chat adapter calls: `chat.postMessage`,
 * `conversations.open`, `auth.test`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PostedMessage {
  channel: string;
  ts: string;
  /** The thread's top-level ts, or null for a top-level message. */
  threadTs: string | null;
  text: string;
  blocks: unknown[] | null;
}

export interface SlackWebApiDoubleOptions {
  botToken: string;
  /** Members of the workspace, by user id. */
  members: string[];
  /** Public channels the bot is in, by id. */
  channels: string[];
}

type Answer = Record<string, unknown>;

export class SlackWebApiDouble {
  readonly messages: PostedMessage[] = [];
  /** Every call, as `method` names, in order. */
  readonly calls: string[] = [];
  /** DM channel id → the member it is with. */
  readonly dmChannels = new Map<string, string>();
  readonly #server: Server;
  readonly #options: SlackWebApiDoubleOptions;
  readonly #members: Set<string>;
  #clock = 1_763_700_000;
  #micro = 0;

  private constructor(server: Server, options: SlackWebApiDoubleOptions) {
    this.#server = server;
    this.#options = options;
    this.#members = new Set(options.members);
  }

  static async start(options: SlackWebApiDoubleOptions): Promise<SlackWebApiDouble> {
    let double: SlackWebApiDouble | null = null;
    const server = createServer((req, res) => {
      void double!.#handle(req).then(
        (answer) => res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(answer)),
        (err: Error) => res.writeHead(500).end(String(err.stack ?? err)),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    double = new SlackWebApiDouble(server, options);
    return double;
  }

  /** The WebClient's `slackApiUrl`. */
  get apiUrl(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/api/`;
  }

  /** A member leaves the workspace (their account is deactivated). */
  deactivate(user: string): void {
    this.#members.delete(user);
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage): Promise<Answer> {
    const method = new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/api\//, '');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const args: Record<string, unknown> = /json/.test(req.headers['content-type'] ?? '')
      ? (JSON.parse(raw || '{}') as Record<string, unknown>)
      : Object.fromEntries(new URLSearchParams(raw));
    this.calls.push(method);
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? (typeof args.token === 'string' ? args.token : null);
    if (token === null) return { ok: false, error: 'not_authed' };
    if (token !== this.#options.botToken) return { ok: false, error: 'invalid_auth' };
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://gastown-test.slack.com/',
          team: 'Gas Town',
          user: 'gastown',
          team_id: 'T0GASTOWN',
          user_id: 'U0GASTOWN',
          bot_id: 'B0GASTOWN',
        };
      case 'conversations.open':
        return this.#open(String(args.users ?? ''));
      case 'chat.postMessage':
        return this.#post(args);
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  #open(users: string): Answer {
    const list = users.split(',').filter(Boolean);
    if (list.length === 0) return { ok: false, error: 'users_list_not_supplied' };
    if (list.length > 1) return { ok: false, error: 'not_enough_users' };
    const user = list[0]!;
    if (!this.#members.has(user)) return { ok: false, error: 'user_not_found' };
    let id = [...this.dmChannels].find(([, u]) => u === user)?.[0];
    if (!id) {
      id = `D${randomBytes(5).toString('hex').toUpperCase()}`;
      this.dmChannels.set(id, user);
    }
    return { ok: true, channel: { id } };
  }

  #post(args: Record<string, unknown>): Answer {
    const channel = String(args.channel ?? '');
    if (!this.#options.channels.includes(channel) && !this.dmChannels.has(channel)) return { ok: false, error: 'channel_not_found' };
    const text = typeof args.text === 'string' ? args.text : '';
    const blocks =
      typeof args.blocks === 'string' ? (JSON.parse(args.blocks) as unknown[]) : Array.isArray(args.blocks) ? args.blocks : null;
    if (!text && !blocks) return { ok: false, error: 'no_text' };
    let threadTs = typeof args.thread_ts === 'string' && args.thread_ts ? args.thread_ts : null;
    // A reply to a reply lands in the thread of its top-level message.
    const parent = threadTs === null ? undefined : this.messages.find((m) => m.channel === channel && m.ts === threadTs);
    if (parent) threadTs = parent.threadTs ?? parent.ts;
    const ts = `${this.#clock}.${String(++this.#micro).padStart(6, '0')}`;
    const message: PostedMessage = { channel, ts, threadTs, text, blocks };
    this.messages.push(message);
    return {
      ok: true,
      channel,
      ts,
      message: { type: 'message', subtype: 'bot_message', text, ts, bot_id: 'B0GASTOWN', ...(threadTs ? { thread_ts: threadTs } : {}) },
    };
  }
}
