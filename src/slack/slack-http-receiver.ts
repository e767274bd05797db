import type { IncomingMessage, ServerResponse } from 'node:http';
import { type App, HTTPModuleFunctions, HTTPResponseAck, type Logger, type Receiver, type ReceiverEvent } from '@slack/bolt';
import { BodyTooLargeError, readBodyWithin, refuseTooLarge } from '../http-body.js';
import { verifySlackSignature } from './verify-slack-signature.js';

export const SLACK_EVENTS_PATH = '/slack/events';

/**
 * What an unauthenticated caller can make us buffer before the signature is checked. Slack's
 * payloads are small: a slash command's text is capped at 4,000 characters, a message at
 * 40,000, and an interactive payload carries at most one message's blocks and a modal's
 * state (100 blocks), which stays in the tens of kilobytes. 1 MB leaves room for all of them
 * several times over.
 */
export const SLACK_BODY_LIMIT = 1024 * 1024;

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export interface SlackHttpReceiverOptions {
  signingSecret: string;
  logger: Logger;
  path?: string;
  bodyLimit?: number;
  /** Clock for the replay window (tests). */
  now?: () => number;
  /** When a listener never calls ack(), the request is answered after this long (Bolt's default is 3001 ms). */
  unhandledRequestTimeoutMillis?: number;
}

function contentTypeOf(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? undefined : v;
}

/** Slash commands are plain forms; interactive payloads are a form with one JSON `payload` field; events are JSON. */
function parseBody(raw: string, contentType: string): Record<string, unknown> {
  if (contentType === 'application/x-www-form-urlencoded') {
    const form = new URLSearchParams(raw);
    const payload = form.get('payload');
    if (payload !== null) return JSON.parse(payload) as Record<string, unknown>;
    return Object.fromEntries(form);
  }
  const parsed: unknown = JSON.parse(raw);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('body is not an object');
  return parsed as Record<string, unknown>;
}

function reply(res: ServerResponse, status: number, headers: Record<string, string> = {}): true {
  res.writeHead(status, headers);
  res.end();
  return true;
}

/**
 * A Bolt receiver that owns no server: `handler` plugs into any node http server (Probot's
 * `addHandler`), serves POST on one path and returns false for everything else. Transport
 * only: verifying, parsing and acknowledging; `app.processEvent` does the rest.
 */
export class SlackHttpReceiver implements Receiver {
  readonly handler: NodeHandler;
  private app: App | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly path: string;
  private readonly bodyLimit: number;
  private readonly now: () => number;

  constructor(private readonly opts: SlackHttpReceiverOptions) {
    this.path = opts.path ?? SLACK_EVENTS_PATH;
    this.bodyLimit = opts.bodyLimit ?? SLACK_BODY_LIMIT;
    this.now = opts.now ?? Date.now;
    this.handler = (req, res) => this.handle(req, res);
  }

  init(app: App): void {
    this.app = app;
  }

  /** The HTTP server belongs to the host process; nothing to open. */
  async start(): Promise<void> {}

  /** Lets listeners that already acknowledged finish their work (respond, services). */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    // Same leniency as Probot's webhook route: a trailing slash names the same path.
    const path = (req.url ?? '').split('?')[0]!.replace(/\/+$/, '');
    if (path !== this.path) return false;
    if (req.method !== 'POST') return reply(res, 405, { allow: 'POST' });
    const { logger } = this.opts;

    // Refused before buffering: a declared length over the limit is not read at all, and a
    // chunked body is cut off at the limit (http-body.ts).
    let raw: string;
    try {
      raw = (await readBodyWithin(req, this.bodyLimit)).toString('utf8');
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        logger.warn('Slack request body too large');
        return refuseTooLarge(req, res, this.bodyLimit);
      }
      logger.warn('Slack request body unreadable');
      return res.headersSent ? true : reply(res, 400);
    }

    const contentType = contentTypeOf(req);
    // Slack's SSL check may come unsigned; it carries nothing that is processed.
    if (contentType === 'application/x-www-form-urlencoded' && new URLSearchParams(raw).get('ssl_check') === '1') {
      return reply(res, 200);
    }

    const check = verifySlackSignature({
      secret: this.opts.signingSecret,
      body: raw,
      timestamp: header(req, 'x-slack-request-timestamp'),
      signature: header(req, 'x-slack-signature'),
      nowMs: this.now(),
    });
    if (!check.ok) {
      logger.warn(`Rejected a Slack request (${check.reason})`);
      return reply(res, 401);
    }

    let body: Record<string, unknown>;
    try {
      body = parseBody(raw, contentType);
    } catch {
      logger.warn('Malformed Slack request body');
      return reply(res, 400);
    }

    if (body.type === 'url_verification') {
      HTTPModuleFunctions.buildUrlVerificationResponse(res, body);
      return true;
    }
    const app = this.app;
    if (app === undefined) return reply(res, 503);

    const ack = new HTTPResponseAck({
      logger,
      processBeforeResponse: false,
      httpRequest: req,
      httpRequestBody: body,
      httpResponse: res,
      ...(this.opts.unhandledRequestTimeoutMillis !== undefined
        ? { unhandledRequestTimeoutMillis: this.opts.unhandledRequestTimeoutMillis }
        : {}),
    });
    const event: ReceiverEvent = {
      body,
      ack: ack.bind(),
      retryNum: HTTPModuleFunctions.extractRetryNumFromHTTPRequest(req),
      retryReason: HTTPModuleFunctions.extractRetryReasonFromHTTPRequest(req),
    };
    // The handler returns as soon as the request is owned; listeners run on, tracked for stop().
    const work = this.dispatch(app, event, ack, req, res).finally(() => this.inFlight.delete(work));
    this.inFlight.add(work);
    return true;
  }

  private async dispatch(app: App, event: ReceiverEvent, ack: HTTPResponseAck, req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await app.processEvent(event);
    } catch (error) {
      const handled = await HTTPModuleFunctions.defaultProcessEventErrorHandler({
        error: error as Error,
        logger: this.opts.logger,
        request: req,
        response: res,
        storedResponse: undefined,
      });
      // Either way the request is answered now: stop the no-ack timer.
      if (handled || res.headersSent) ack.ack();
    }
  }
}
