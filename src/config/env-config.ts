/**
 * The one place that reads process settings. Callers pass the environment in (normally
 * `process.env` from the entry point), so library code and tests never touch `process.env`.
 */
import { z } from 'zod';
import { GastownError } from '../errors.js';
import { DEFAULT_MODEL } from './repo-config.js';

export const DEFAULT_GIT_URL_TEMPLATE = 'https://x-access-token:{token}@github.com/{owner}/{repo}.git';

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

/** Probot takes the key as PEM text (newlines real or escaped) or as base64 of it. */
function looksLikePem(value: string): boolean {
  const pem = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
  return pem.test(value) || pem.test(Buffer.from(value, 'base64').toString('utf8'));
}

const envSchema = z.object({
  APP_ID: optionalString,
  PRIVATE_KEY: optionalString.refine(
    (v) => v === undefined || looksLikePem(v),
    'is not a PEM private key: paste the whole .pem file (or its base64), or set PRIVATE_KEY_PATH',
  ),
  PRIVATE_KEY_PATH: optionalString,
  WEBHOOK_SECRET: optionalString,
  PORT: z
    .string()
    .regex(/^\d{1,5}$/, 'must be a port number')
    .optional(),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional(),
  // Probot's own settings, checked here so a typo stops the start with the variable's name.
  HOST: optionalString,
  WEBHOOK_PATH: optionalString.refine((v) => v === undefined || v.startsWith('/'), 'must be a path such as /api/github/webhooks'),
  WEBHOOK_PROXY_URL: optionalString.refine(
    (v) => v === undefined || /^https?:\/\/\S+$/.test(v),
    'must be an http(s) URL such as https://smee.io/<channel>',
  ),
  GHE_HOST: optionalString.refine(
    (v) => v === undefined || /^[A-Za-z0-9.-]+(:\d+)?$/.test(v),
    'must be a host name such as ghe.example.com (no https://)',
  ),
  GHE_PROTOCOL: optionalString.refine((v) => v === undefined || v === 'http' || v === 'https', 'must be http or https'),
  GASTOWN_OIDC_ISSUER: optionalString.refine(
    (v) => v === undefined || /^https?:\/\/\S+$/.test(v),
    'must be an http(s) URL such as https://token.actions.githubusercontent.com',
  ),
  GASTOWN_OIDC_JWKS_URL: optionalString.refine(
    (v) => v === undefined || /^https?:\/\/\S+$/.test(v),
    'must be an http(s) URL such as https://token.actions.githubusercontent.com/.well-known/jwks',
  ),
  GASTOWN_OIDC_AUDIENCE: optionalString,
  GASTOWN_DATA_DIR: optionalString,
  GASTOWN_GIT_URL: optionalString,
  GASTOWN_LEASE_TTL_MS: optionalString.refine(
    (v) => v === undefined || (/^\d{1,9}$/.test(v) && Number(v) >= 1000),
    'must be a number of milliseconds, at least 1000',
  ),
  GASTOWN_DISPATCH_GRACE_MS: optionalString.refine(
    (v) => v === undefined || (/^\d{1,9}$/.test(v) && Number(v) >= 1000),
    'must be a number of milliseconds, at least 1000',
  ),
  GASTOWN_DEACON_EVERY_MS: optionalString.refine(
    (v) => v === undefined || (/^\d{1,9}$/.test(v) && (Number(v) === 0 || Number(v) >= 100)),
    "must be a number of milliseconds, at least 100 (0 turns the Deacon's timer off)",
  ),
  GASTOWN_SYNC_FULL_EVERY_MS: optionalString.refine(
    (v) => v === undefined || /^\d{1,9}$/.test(v),
    'must be a number of milliseconds (0 compares every ledger ref at every sync)',
  ),
  GASTOWN_GIT_HTTP: optionalString.refine(
    (v) => v === undefined || v === 'in-process' || v === 'git',
    "must be 'in-process' (the default) or 'git'",
  ),
  GASTOWN_LEASE_LINGER_MS: optionalString.refine(
    (v) => v === undefined || /^\d{1,9}$/.test(v),
    'must be a number of milliseconds (0 gives the lease back after each burst of work at once)',
  ),
  ANTHROPIC_API_KEY: optionalString,
  ANTHROPIC_BASE_URL: optionalString,
  GASTOWN_MODEL: optionalString,
  SLACK_BOT_TOKEN: optionalString,
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_APP_TOKEN: optionalString,
  SLACK_API_URL: optionalString,
  SLACK_FEED_CHANNEL: optionalString,
});

export interface EnvConfig {
  appId: string | null;
  /** True when a private key is configured; the key itself stays with Probot. */
  hasPrivateKey: boolean;
  port: number;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  dataDir: string;
  gitUrlTemplate: string;
  /** How long a replica's lease on a repository lasts without renewal (GASTOWN_LEASE_TTL_MS). */
  leaseTtlMs: number;
  /** How long a dispatch mark without a recorded call waits before GitHub is asked for its run (GASTOWN_DISPATCH_GRACE_MS). */
  dispatchGraceMs: number;
  /**
   * How often the app runs a dispatch pass (the Deacon's, lost dispatches, ready beads) on
   * each repository it mirrors with an active convoy, without a webhook (GASTOWN_DEACON_EVERY_MS; 0: never).
   */
  deaconEveryMs: number;
  /** How long a replica keeps a repository's lease for more work after a burst (GASTOWN_LEASE_LINGER_MS). */
  leaseLingerMs: number;
  /** How long mirror syncs follow the writers' summaries between full comparisons (GASTOWN_SYNC_FULL_EVERY_MS). */
  syncFullEveryMs: number;
  /**
   * How mirrors talk to an http(s) remote (GASTOWN_GIT_HTTP): 'in-process' (ledger/smart-http.ts,
   * git only as the fallback) or 'git' (every fetch and push a git process, for a git whose
   * HTTP settings live in its config: a proxy, a CA bundle, `url.<base>.insteadOf`).
   */
  gitHttp: 'in-process' | 'git';
  /** Who signs the Actions OIDC tokens polecat jobs exchange at POST /gastown/token. */
  oidc: { issuer: string; jwksUrl: string; audience: string };
  anthropic: { apiKey: string | null; baseUrl: string | null };
  model: string;
  slack: {
    botToken: string | null;
    signingSecret: string | null;
    appToken: string | null;
    apiUrl: string | null;
    feedChannel: string | null;
  } | null;
}

/** Parses the environment; a malformed value → GastownError('gastown_config') naming the variable. */
export function loadEnvConfig(env: Record<string, string | undefined>): EnvConfig {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message.replaceAll('\n', ' ')}`);
    throw new GastownError('gastown_config', `Invalid environment: ${issues.join('; ')}`, { issues });
  }
  const e = result.data;
  const slackConfigured = e.SLACK_BOT_TOKEN !== undefined || e.SLACK_APP_TOKEN !== undefined;
  return {
    appId: e.APP_ID ?? null,
    hasPrivateKey: e.PRIVATE_KEY !== undefined || e.PRIVATE_KEY_PATH !== undefined,
    port: e.PORT === undefined ? 3000 : Number(e.PORT),
    logLevel: e.LOG_LEVEL ?? 'info',
    dataDir: e.GASTOWN_DATA_DIR ?? '.gastown',
    gitUrlTemplate: e.GASTOWN_GIT_URL ?? gitUrlTemplateFor(e.GHE_HOST, e.GHE_PROTOCOL),
    leaseTtlMs: e.GASTOWN_LEASE_TTL_MS === undefined ? 60_000 : Number(e.GASTOWN_LEASE_TTL_MS),
    dispatchGraceMs: e.GASTOWN_DISPATCH_GRACE_MS === undefined ? 60_000 : Number(e.GASTOWN_DISPATCH_GRACE_MS),
    deaconEveryMs: e.GASTOWN_DEACON_EVERY_MS === undefined ? 300_000 : Number(e.GASTOWN_DEACON_EVERY_MS),
    leaseLingerMs: e.GASTOWN_LEASE_LINGER_MS === undefined ? 1000 : Number(e.GASTOWN_LEASE_LINGER_MS),
    syncFullEveryMs: e.GASTOWN_SYNC_FULL_EVERY_MS === undefined ? 300_000 : Number(e.GASTOWN_SYNC_FULL_EVERY_MS),
    gitHttp: e.GASTOWN_GIT_HTTP === 'git' ? 'git' : 'in-process',
    oidc: oidcConfig(e.GASTOWN_OIDC_ISSUER, e.GASTOWN_OIDC_JWKS_URL, e.GASTOWN_OIDC_AUDIENCE, e.GHE_HOST, e.GHE_PROTOCOL),
    anthropic: { apiKey: e.ANTHROPIC_API_KEY ?? null, baseUrl: e.ANTHROPIC_BASE_URL ?? null },
    model: e.GASTOWN_MODEL ?? DEFAULT_MODEL,
    slack: slackConfigured
      ? {
          botToken: e.SLACK_BOT_TOKEN ?? null,
          signingSecret: e.SLACK_SIGNING_SECRET ?? null,
          appToken: e.SLACK_APP_TOKEN ?? null,
          apiUrl: e.SLACK_API_URL ?? null,
          feedChannel: e.SLACK_FEED_CHANNEL ?? null,
        }
      : null,
  };
}

/**
 * The git URL of a repository on the host the app talks to: github.com, or the GitHub
 * Enterprise Server that Probot's own `GHE_HOST` / `GHE_PROTOCOL` name (its API is at
 * `<protocol>://<host>/api/v3`, its git at `<protocol>://<host>/<owner>/<repo>.git`).
 */
export function gitUrlTemplateFor(gheHost: string | undefined, protocol: string | undefined): string {
  if (gheHost === undefined) return DEFAULT_GIT_URL_TEMPLATE;
  return `${protocol ?? 'https'}://x-access-token:{token}@${gheHost}/{owner}/{repo}.git`;
}

export const GITHUB_OIDC_ISSUER = 'https://token.actions.githubusercontent.com';

/**
 * The issuer of Actions OIDC tokens: GitHub's, or a GitHub Enterprise Server's
 * (`<protocol>://<host>/_services/token`), unless set; its keys at `<issuer>/.well-known/jwks`.
 */
function oidcConfig(
  issuer: string | undefined,
  jwksUrl: string | undefined,
  audience: string | undefined,
  gheHost: string | undefined,
  protocol: string | undefined,
): EnvConfig['oidc'] {
  const iss = (issuer ?? (gheHost ? `${protocol ?? 'https'}://${gheHost}/_services/token` : GITHUB_OIDC_ISSUER)).replace(/\/+$/, '');
  return { issuer: iss, jwksUrl: jwksUrl ?? `${iss}/.well-known/jwks`, audience: audience ?? 'gastown' };
}
