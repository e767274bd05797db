/**
 * The gate in front of Probot's webhook route. Probot 14's server runs @octokit/webhooks'
 * node middleware as its first handler, and that middleware buffers the whole body before it
 * checks anything (`getPayloadFromRequestStream`), then logs the failed event, payload
 * included, when the signature does not match. So the gate runs before Probot's request
 * listener (`guardRequests`, installed by `startServer`) and, on the webhook path:
 *
 * - refuses a body over `limit` with 413 before buffering it (`http-body.ts`): GitHub caps
 *   webhook payloads at 25 MB, so nothing larger can be a real delivery;
 * - checks `x-hub-signature-256` itself (HMAC-SHA256 of the raw bytes, constant-time) and
 *   answers 400 to a bad or missing one with one log line that names the delivery id, the
 *   event and the size, never the payload;
 * - hands a verified body to Probot as `req.body` (a string, which the middleware's
 *   `getPayload` takes as is), so Probot verifies it again and reads no stream.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { BodyTooLargeError, readBodyWithin, refuseTooLarge } from '../http-body.js';

/** GitHub's maximum webhook payload: "Payloads are capped at 25 MB". */
export const WEBHOOK_BODY_LIMIT = 25 * 1024 * 1024;

export interface GuardLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Answers the request (true) or lets it go on to the next guard and then the server (false). */
export type RequestGuard = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export interface WebhookGuardOptions {
  /** Probot's webhook path (`WEBHOOK_PATH`, default `/api/github/webhooks`). */
  path: string;
  /** Probot's webhook secret (`WEBHOOK_SECRET`; Probot's own default is "development"). */
  secret: string;
  log: GuardLogger;
  limit?: number;
}

/**
 * The path exactly as @octokit/webhooks' middleware computes it (trailing slashes of the whole
 * URL dropped, then the URL's pathname), so the guard sees every request the middleware reads.
 */
function pathOf(url: string | undefined): string | null {
  const trimmed = (url ?? '').replace(/\/+$/, '') || '/';
  try {
    return new URL(trimmed, 'http://localhost').pathname;
  } catch {
    return null;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

export function signatureMatches(secret: string, body: Buffer, signature: string | undefined): boolean {
  if (!signature || !/^sha256=[0-9a-f]{64}$/i.test(signature)) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(signature.slice('sha256='.length), 'hex'));
}

export function webhookGuard(opts: WebhookGuardOptions): RequestGuard {
  const limit = opts.limit ?? WEBHOOK_BODY_LIMIT;
  const path = pathOf(opts.path);
  return async (req, res) => {
    // Other paths and methods are Probot's (it answers 404 to a GET on this path).
    if (req.method !== 'POST' || pathOf(req.url) !== path) return false;
    const delivery = { id: header(req, 'x-github-delivery'), event: header(req, 'x-github-event') };
    let body: Buffer;
    try {
      body = await readBodyWithin(req, limit);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        opts.log.warn(
          { ...delivery, limit, contentLength: req.headers['content-length'] ?? null },
          'Refused a webhook delivery: body too large',
        );
        return refuseTooLarge(req, res, limit);
      }
      opts.log.warn({ ...delivery, err: { message: (err as Error).message } }, 'Webhook delivery body unreadable');
      if (!res.headersSent) res.writeHead(400).end();
      return true;
    }
    if (!signatureMatches(opts.secret, body, header(req, 'x-hub-signature-256'))) {
      opts.log.warn({ ...delivery, bytes: body.length }, 'Refused a webhook delivery: signature does not match');
      const answer = JSON.stringify({ error: 'Error: [@octokit/webhooks] signature does not match event payload and secret' });
      res.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
      return true;
    }
    (req as IncomingMessage & { body?: unknown }).body = body.toString('utf8');
    return false;
  };
}

/**
 * Puts `guards` in front of every `request` listener the server has now (Probot's), so a
 * guard sees each request first and the listeners only see what no guard answered. Call it
 * before the server takes requests (right after `Server.start()` resolves, in the same turn).
 */
export function guardRequests(server: HttpServer, guards: RequestGuard[], log: GuardLogger): void {
  const listeners = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      try {
        for (const guard of guards) if (await guard(req, res)) return;
      } catch (err) {
        log.error({ err: { message: (err as Error).message } }, 'Request guard failed');
        if (!res.headersSent) res.writeHead(500).end();
        return;
      }
      for (const listener of listeners) listener.call(server, req, res);
    })();
  });
}
