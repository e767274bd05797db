/** `GET /gastown/health`: a liveness probe that needs no GitHub credentials. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export const HEALTH_PATH = '/gastown/health';

export function healthHandler(version: string) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== HEALTH_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : JSON.stringify({ ok: true, version }));
    return true;
  };
}
