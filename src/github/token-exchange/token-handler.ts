/**
 * `POST /gastown/token`: the HTTP side of the token exchange (`exchange-token.ts`). The
 * Actions OIDC token comes in a JSON body, `{"token": "<jwt>"}`, not in a header: Probot's
 * server logs every request's headers, and the token must never reach a log. A body over
 * 16 kB is refused before it is buffered. Answers 201 `{ token, expires_at, ... }`, or
 * 401/403 `{ error, reason }` (the reason says what failed, never anything of a token), or
 * 502/503 when GitHub or the issuer's keys could not be reached. One log line per request,
 * with the repository, run and bead the token named, and no token.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { BodyTooLargeError, readBodyWithin, refuseTooLarge } from '../../http-body.js';
import type { ExchangedToken, ExchangeTrace } from './exchange-token.js';
import { TokenRefused } from './verify-actions-token.js';

export const TOKEN_PATH = '/gastown/token';
/** A JWT of an Actions job is 1 to 2 kB; anything far longer is not one. */
const BODY_LIMIT = 16_384;

export function tokenHandler(exchange: (jwt: string, trace: ExchangeTrace) => Promise<ExchangedToken>, log: Logger) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== TOKEN_PATH) return false;
    void answer(req, res, exchange, log);
    return true;
  };
}

async function answer(
  req: IncomingMessage,
  res: ServerResponse,
  exchange: (jwt: string, trace: ExchangeTrace) => Promise<ExchangedToken>,
  log: Logger,
): Promise<void> {
  if (req.method !== 'POST') {
    send(res, 405, { error: 'method_not_allowed', reason: USAGE }, { allow: 'POST' });
    req.resume();
    return;
  }
  let body: Buffer;
  try {
    body = await readBodyWithin(req, BODY_LIMIT);
  } catch (err) {
    if (err instanceof BodyTooLargeError) refuseTooLarge(req, res, BODY_LIMIT);
    else send(res, 400, { error: 'bad_request', reason: 'the request body could not be read' });
    return;
  }
  const jwt = tokenOf(body);
  const trace: ExchangeTrace = {};
  if (jwt === null) {
    log.info({ outcome: 'refused', status: 401 }, 'Token exchange refused: no token in the body');
    send(res, 401, { error: 'invalid_token', reason: USAGE });
    return;
  }
  try {
    const minted = await exchange(jwt, trace);
    log.info({ ...trace, outcome: 'minted', expires_at: minted.expires_at }, 'Token exchange: scoped installation token issued');
    send(res, 201, minted);
  } catch (err) {
    const refused = err instanceof TokenRefused ? err : new TokenRefused(502, 'the exchange failed');
    if (!(err instanceof TokenRefused)) log.error({ ...trace, err: { message: (err as Error).message } }, 'Token exchange failed');
    const error = refused.status === 401 ? 'invalid_token' : refused.status === 403 ? 'forbidden' : 'unavailable';
    log.info({ ...trace, outcome: 'refused', status: refused.status, reason: refused.reason }, `Token exchange refused: ${refused.reason}`);
    send(res, refused.status, { error, reason: refused.reason });
  }
}

const USAGE = 'POST the GitHub Actions OIDC token as JSON: {"token": "<jwt>"}';

function tokenOf(body: Buffer): string | null {
  try {
    const token = (JSON.parse(body.toString('utf8')) as { token?: unknown } | null)?.token;
    return typeof token === 'string' && /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token) ? token : null;
  } catch {
    return null;
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
