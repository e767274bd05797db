/**
 * Git's smart HTTP protocol for the double's repository, as GitHub serves it: each request
 * (`GET info/refs?service=…`, `POST git-upload-pack`, `POST git-receive-pack`) runs
 * `git http-backend` as a CGI program from the double's process. So the server side of a
 * fetch or push (upload-pack, receive-pack, pack-objects, index-pack, the connectivity check,
 * `gc --auto`) is the double's work, as on GitHub it is GitHub's, and a client (the app, a
 * polecat job) runs only its own side (`git-remote-http`), not the server's as a child of
 * its own git as it would over `file://`.
 */
import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface GitHttpRequest {
  /** The directory holding `<owner>/<repo>.git` (GIT_PROJECT_ROOT). */
  projectRoot: string;
  /** The path under the project root (`/<owner>/<repo>.git/info/refs`). */
  pathInfo: string;
  query: string;
  /** Who the request authenticated as (REMOTE_USER), if anyone. */
  user: string | null;
}

/** Git never sees this machine's settings; receive-pack is on (http-backend refuses pushes from an anonymous user otherwise). */
function backendEnv(r: GitHttpRequest, req: IncomingMessage): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.receivepack',
    GIT_CONFIG_VALUE_0: 'true',
    GIT_PROJECT_ROOT: r.projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: r.pathInfo,
    QUERY_STRING: r.query,
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
  };
  if (r.user) env.REMOTE_USER = r.user;
  const type = req.headers['content-type'];
  if (type) env.CONTENT_TYPE = type;
  // A chunked body (a large push) has no length: http-backend then reads to the end.
  const length = req.headers['content-length'];
  if (length) env.CONTENT_LENGTH = length;
  // git gzips large upload-pack requests; http-backend inflates them itself.
  const encoding = req.headers['content-encoding'];
  if (encoding) env.HTTP_CONTENT_ENCODING = encoding;
  // `Git-Protocol: version=2` is how a client asks for protocol v2 over HTTP.
  const protocol = req.headers['git-protocol'];
  if (typeof protocol === 'string') env.GIT_PROTOCOL = protocol;
  return env;
}

/**
 * Answers one smart-HTTP request with `git http-backend`: the request body streams into
 * it, and its CGI answer (a `Status:` line, headers, a blank line, the body) streams out.
 * Resolves with the status sent once the answer is complete.
 */
export function serveGitHttp(r: GitHttpRequest, req: IncomingMessage, res: ServerResponse): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('git', ['http-backend'], { env: backendEnv(r, req), stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let head: Buffer | null = Buffer.alloc(0);
    let status = 502;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    // The client may hang up mid-answer; the pipe then breaks and that is all.
    child.stdin.on('error', () => undefined);
    req.pipe(child.stdin);
    child.stdout.on('data', (chunk: Buffer) => {
      if (head === null) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = headerEnd(head);
      if (end === null) return;
      const { code, headers } = parseCgiHead(head.subarray(0, end.at).toString('latin1'));
      status = code;
      res.writeHead(code, headers);
      const rest = head.subarray(end.at + end.length);
      head = null;
      if (rest.length) res.write(rest);
    });
    child.on('error', (err) => {
      stderr += String(err);
    });
    child.on('close', () => {
      if (head !== null) {
        // No CGI answer at all: say what git said (a test reads it; nothing here holds a token).
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`git http-backend failed: ${stderr}`);
        resolve(500);
        return;
      }
      res.end();
      resolve(status);
    });
  });
}

/** Where the CGI headers end: `\r\n\r\n` or `\n\n`, whichever comes first. */
function headerEnd(buf: Buffer): { at: number; length: number } | null {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf < 0 && lf < 0) return null;
  if (lf < 0 || (crlf >= 0 && crlf < lf)) return { at: crlf, length: 4 };
  return { at: lf, length: 2 };
}

/** A CGI answer's head: `Status: 404 Not Found` (200 when absent) and the other headers as they are. */
export function parseCgiHead(text: string): { code: number; headers: Record<string, string> } {
  let code = 200;
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') code = Number.parseInt(value, 10) || 500;
    else headers[name] = value;
  }
  return { code, headers };
}
