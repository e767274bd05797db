/**
 * Request bodies read with a ceiling, for every endpoint an unauthenticated caller can reach
 * (the GitHub webhook route, Slack's events route). A body is refused before it is buffered:
 * a declared `content-length` over the limit is answered at once without reading a byte, and
 * a body without one (chunked) is counted while it streams and cut off at the limit. A
 * refusal is `413` with `connection: close`, and the socket is destroyed once the answer is
 * out, so the rest of a huge body is neither buffered nor drained.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export class BodyTooLargeError extends Error {
  readonly code = 'gastown_body_too_large';
  constructor(readonly limit: number) {
    super(`request body over ${limit} bytes`);
  }
}

/** The declared body length, or null when there is none (chunked) or it is not a number. */
export function declaredLength(req: IncomingMessage): number | null {
  const raw = req.headers['content-length'];
  if (raw === undefined || !/^\s*\d+\s*$/.test(raw)) return null;
  return Number(raw);
}

/** True when the request says up front that its body is over `limit`. */
export function declaresMoreThan(req: IncomingMessage, limit: number): boolean {
  const length = declaredLength(req);
  return length !== null && length > limit;
}

/**
 * The whole body, or a `BodyTooLargeError` as soon as more than `limit` bytes have arrived
 * (reading stops there: the request is paused and nothing more is kept).
 */
export function readBodyWithin(req: IncomingMessage, limit: number): Promise<Buffer> {
  if (declaresMoreThan(req, limit)) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        chunks.length = 0;
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/**
 * Answers 413 and closes the connection once the answer is written, without reading (or
 * draining) the rest of the body. Node would otherwise read and discard it all to keep the
 * connection alive.
 */
export function refuseTooLarge(req: IncomingMessage, res: ServerResponse, limit: number): true {
  const body = JSON.stringify({ error: `Request body too large: the limit is ${limit} bytes` });
  if (!res.headersSent) {
    res.writeHead(413, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.end(body);
  }
  const socket = req.socket;
  if (res.writableFinished) socket.destroy();
  else res.once('finish', () => socket.destroy());
  // Whatever is still in flight is thrown away, not buffered.
  req.pause();
  return true;
}
