/**
 * Sends a large request body over real HTTP without holding it in memory. Written on a raw
 * socket: nock's interception of `http.request` takes every write into memory at once, which
 * would both hide the server's backpressure and grow this process by the whole body.
 */
import { connect } from 'node:net';

export interface BigBodyResult {
  /** The answer's status, or null when the connection ended without one. */
  status: number | null;
  /**
   * The server reset the connection while this side was still sending. A server that
   * answers 413 and closes at once cannot stop the kernel from resetting a connection with
   * unread data, and a reset can overtake the answer before this side reads it (seen on a
   * loaded machine): either way the body was refused.
   */
  reset: boolean;
  /** The answer's body (after the headers). */
  body: string;
  /** Bytes of body the client managed to hand to the socket. */
  sent: number;
  ms: number;
}

/**
 * POSTs `bytes` bytes of body (one shared 64 KiB chunk written again and again, with
 * backpressure) to `url`, with a `content-length` header or, when `chunked`, in chunked
 * transfer encoding. Stops writing as soon as an answer arrives; a connection the server cuts
 * is not an error here.
 */
export function sendBigBody(
  url: string,
  opts: { bytes: number; chunked?: boolean; headers?: Record<string, string> },
): Promise<BigBodyResult> {
  const target = new URL(url);
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const started = performance.now();
  return new Promise((resolve) => {
    let sent = 0;
    let reset = false;
    let done = false;
    let answer = '';
    const finish = (): void => {
      if (done) return;
      done = true;
      socket.destroy();
      const m = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      const split = answer.indexOf('\r\n\r\n');
      resolve({
        status: m ? Number(m[1]) : null,
        reset,
        body: split >= 0 ? answer.slice(split + 4) : '',
        sent,
        ms: performance.now() - started,
      });
    };
    const socket = connect(Number(target.port), target.hostname, () => {
      const headers: Record<string, string> = {
        host: target.host,
        'content-type': 'application/json',
        ...(opts.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(opts.bytes) }),
        ...opts.headers,
      };
      socket.write(
        `POST ${target.pathname}${target.search} HTTP/1.1\r\n${Object.entries(headers)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('')}\r\n`,
      );
      pump();
    });
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      answer += d;
      const split = answer.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: *(\d+)/i.exec(answer.slice(0, split));
      if (split >= 0 && length && answer.length - split - 4 >= Number(length[1])) finish();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') reset = true;
      finish();
    });
    socket.on('close', () => finish());
    const pump = (): void => {
      while (!done && answer === '' && sent < opts.bytes) {
        const piece = opts.bytes - sent >= chunk.length ? chunk : chunk.subarray(0, opts.bytes - sent);
        sent += piece.length;
        const ok = opts.chunked
          ? socket.write(Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]))
          : socket.write(piece);
        if (!ok) {
          socket.once('drain', pump);
          return;
        }
      }
      if (!done && answer === '' && opts.chunked) socket.write('0\r\n\r\n');
    };
  });
}

/** The body was refused: a 413, or (see `reset`) a reset that overtook it. */
export function refused(r: BigBodyResult): boolean {
  return r.status === 413 || (r.status === null && r.reset);
}
