/**
 * The job's side of the token exchange: ask GitHub Actions for this job's OIDC token (it
 * exists only with `permissions: id-token: write`; ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN), then
 * hand it to the Gas Town app (`POST <app>/gastown/token` with `{"token": "<jwt>"}`), which
 * answers with an installation token scoped to this repository. Neither token is ever
 * logged; errors name only what failed.
 */
import { GastownError } from '../errors.js';

export const TOKEN_PATH = '/gastown/token';

export interface AppTokenRequest {
  env: Readonly<Record<string, string | undefined>>;
  /** The app's base URL: https, or http on a loopback address only (a token must not cross a network in clear). */
  appUrl: string;
  audience: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export interface AppToken {
  token: string;
  expiresAt: string | null;
}

export async function requestAppToken(req: AppTokenRequest): Promise<AppToken> {
  const doFetch = req.fetch ?? fetch;
  const timeoutMs = req.timeoutMs ?? 20_000;
  const endpoint = tokenEndpoint(req.appUrl);
  const requestUrl = req.env.ACTIONS_ID_TOKEN_REQUEST_URL?.trim();
  const requestToken = req.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN?.trim();
  if (!requestUrl || !requestToken)
    throw new GastownError('gastown_config', 'no Actions OIDC token to exchange: the workflow needs `permissions: id-token: write`');
  if (!req.audience.trim()) throw new GastownError('gastown_bad_input', '--audience must not be empty');

  const oidcUrl = `${requestUrl}${requestUrl.includes('?') ? '&' : '?'}audience=${encodeURIComponent(req.audience)}`;
  const oidc = await call(
    doFetch,
    oidcUrl,
    { headers: { authorization: `bearer ${requestToken}`, accept: 'application/json' } },
    timeoutMs,
    'the Actions OIDC token service',
  );
  const jwt = (oidc.json as { value?: unknown } | null)?.value;
  if (oidc.status !== 200 || typeof jwt !== 'string' || jwt.split('.').length !== 3)
    throw new GastownError('gastown_forge', `the Actions OIDC token service answered HTTP ${oidc.status} without a token`);

  // In the body, not a header: servers log headers (Probot's does), and the token must not reach a log.
  const answer = await call(
    doFetch,
    endpoint,
    { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ token: jwt }) },
    timeoutMs,
    `the Gas Town app (${new URL(endpoint).host})`,
  );
  const body = (answer.json ?? {}) as { token?: unknown; expires_at?: unknown; reason?: unknown };
  if (answer.status !== 200 && answer.status !== 201) {
    const reason = typeof body.reason === 'string' ? `: ${body.reason.slice(0, 300)}` : '';
    throw new GastownError('gastown_forbidden', `the Gas Town app refused the token exchange (HTTP ${answer.status})${reason}`);
  }
  if (typeof body.token !== 'string' || body.token.length < 8 || /\s/.test(body.token))
    throw new GastownError('gastown_forge', 'the Gas Town app answered without a token');
  return { token: body.token, expiresAt: typeof body.expires_at === 'string' ? body.expires_at : null };
}

/**
 * Revokes an installation token (`DELETE /installation/token` at the job's GITHUB_API_URL), so
 * the scoped token dies with the work step instead of living out its hour. Returns GitHub's
 * status (204 when revoked); never throws for an answer GitHub gives.
 */
export async function revokeAppToken(opts: {
  env: Readonly<Record<string, string | undefined>>;
  token: string;
  fetch?: typeof fetch;
}): Promise<number> {
  const api = (opts.env.GITHUB_API_URL?.trim() || 'https://api.github.com').replace(/\/+$/, '');
  const res = await call(
    opts.fetch ?? fetch,
    `${api}/installation/token`,
    {
      method: 'DELETE',
      headers: { authorization: `Bearer ${opts.token}`, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' },
    },
    15_000,
    'GitHub',
  );
  return res.status;
}

/** `<app>/gastown/token`; refuses plain http to anything but a loopback address. */
export function tokenEndpoint(appUrl: string): string {
  let url: URL;
  try {
    url = new URL(appUrl.trim());
  } catch {
    throw new GastownError('gastown_bad_input', `--app-url must be a URL such as https://gastown.example.com (got ${appUrl})`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    throw new GastownError('gastown_bad_input', `--app-url must be https (a token must not cross the network in clear): ${url.origin}`);
  if (url.username || url.password) throw new GastownError('gastown_bad_input', '--app-url must not carry credentials');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}${TOKEN_PATH}`;
}

async function call(
  doFetch: typeof fetch,
  url: string,
  init: RequestInit,
  timeoutMs: number,
  what: string,
): Promise<{ status: number; json: unknown }> {
  let res: Response;
  try {
    res = await doFetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new GastownError('gastown_forge', `could not reach ${what} (${cause})`);
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: the status says enough
  }
  return { status: res.status, json };
}
