/**
 * Request bodies read with a ceiling, for every endpoint an unauthenticated caller can reach
 * (the GitHub webhook route, Slack's events route). A body is refused before it is buffered:
 * a declared `content-length` over the limit is answered at once without reading a byte, and
 * a body without one (chunked) is counted while it streams and cut off at the limit. A
 * refusal is `413` with `connection: close`, then a short lingering close (at most 1 s or
 * 4 MB more are read and dropped, so the client gets to read the answer), so the rest of a
 * huge body is neither buffered nor drained.
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
 * Answers 413 and closes the connection once the answer is written, reading at most a
 * little more of the body (dropped, not kept). Node would otherwise read and discard all of
 * it to keep the connection alive.
 */
export function refuseTooLarge(req: IncomingMessage, res: ServerResponse, limit: number): true {
  const body = JSON.stringify({ error: `Request body too large: the limit is ${limit} bytes` });
  if (!res.headersSent) {
    res.writeHead(413, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.end(body);
  }
  // A lingering close: closing at once while the client is still sending makes the kernel
  // answer with a reset, which can discard the 413 before the client reads it. So the
  // answer is followed by our half of the close, and what still arrives is read and thrown
  // away (never buffered) for a moment, then the socket is destroyed.
  const socket = req.socket;
  const linger = () => {
    socket.end();
    let dropped = 0;
    const stop = setTimeout(() => socket.destroy(), LINGER_MS);
    stop.unref();
    req.on('data', (d: Buffer) => {
      dropped += d.length;
      if (dropped > LINGER_BYTES) socket.destroy();
    });
    socket.once('close', () => clearTimeout(stop));
    req.resume();
  };
  req.pause();
  if (res.writableFinished) linger();
  else res.once('finish', linger);
  return true;
}

/** How long, and how much, a refused request is still read (and dropped) after its 413. */
const LINGER_MS = 1_000;
const LINGER_BYTES = 4 * 1024 * 1024;
