/**
 * Starts the app on Probot's `Server`, as `probot run` / `run()` does when the app has
 * credentials, with one difference: the request guards (`github/webhook-guard.ts`) run
 * before Probot's request listener. Probot 14 puts the webhook middleware ahead of every
 * handler an app can add, and that middleware buffers whole bodies, so the guard cannot be a
 * handler; and `run()` keeps its HTTP server to itself, so bin/start.js builds the server
 * here. The settings are the ones `run()` reads (probot/lib/bin/read-env-options.js).
 * Without credentials bin/start.js still calls `run()`, for Probot's setup flow.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { type ApplicationFunction, Probot, Server } from 'probot';
import { guardRequests, webhookGuard, WEBHOOK_BODY_LIMIT } from './github/webhook-guard.js';

/** Probot's defaults (probot/lib/server/server.js, probot.js). */
const DEFAULT_WEBHOOK_PATH = '/api/github/webhooks';
const DEFAULT_WEBHOOK_SECRET = 'development';

export interface StartServerOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** Where relative PRIVATE_KEY_PATH and a lone `*.pem` are looked up (default: the working directory). */
  cwd?: string;
  /** Default: Probot's own logger, made from LOG_LEVEL / LOG_FORMAT / ... as `run()` makes it. */
  log?: Logger;
  /** Tests: an Octokit without retries or throttling. */
  Octokit?: typeof import('probot').ProbotOctokit;
  /** Default 25 MB, GitHub's own cap. */
  webhookBodyLimit?: number;
}

export interface StartedServer {
  server: Server;
  http: HttpServer;
  stop(): Promise<void>;
}

export async function startServer(appFn: ApplicationFunction, opts: StartServerOptions): Promise<StartedServer> {
  const { env } = opts;
  const privateKey = privateKeyFromEnv(env, opts.cwd ?? process.cwd());
  const appId = Number(env.APP_ID);
  if (!appId || !privateKey) throw new Error('startServer needs APP_ID and a private key (PRIVATE_KEY or PRIVATE_KEY_PATH)');
  const secret = env.WEBHOOK_SECRET || DEFAULT_WEBHOOK_SECRET;
  const webhookPath = env.WEBHOOK_PATH || DEFAULT_WEBHOOK_PATH;
  const probotOptions = {
    appId,
    privateKey,
    secret,
    ...(env.REDIS_URL ? { redisConfig: env.REDIS_URL } : {}),
    baseUrl: env.GHE_HOST ? `${env.GHE_PROTOCOL || 'https'}://${env.GHE_HOST}/api/v3` : 'https://api.github.com',
    ...(opts.Octokit ? { Octokit: opts.Octokit } : {}),
  };
  const log = opts.log ?? (await probotLogger(env, probotOptions));
  const server = new Server({
    host: env.HOST || 'localhost',
    port: Number(env.PORT) || 3000,
    webhookPath,
    ...(env.WEBHOOK_PROXY_URL ? { webhookProxy: env.WEBHOOK_PROXY_URL } : {}),
    log,
    Probot: Probot.defaults({ ...probotOptions, log }),
  });
  await server.load(appFn);
  const http = await server.start();
  // Same turn as the listen callback: no request has been read yet.
  guardRequests(http, [webhookGuard({ path: webhookPath, secret, log, limit: opts.webhookBodyLimit ?? WEBHOOK_BODY_LIMIT })], log);
  return { server, http, stop: () => server.stop() };
}

/** The logger `run()` would make: Probot builds it (pretty or JSON, Sentry) when given none. */
async function probotLogger(env: StartServerOptions['env'], options: { appId: number; privateKey: string }): Promise<Logger> {
  const format = env.LOG_FORMAT ? (env.LOG_FORMAT === 'pretty' ? 'pretty' : 'json') : env.NODE_ENV === 'production' ? 'json' : 'pretty';
  const probe = new Probot({
    ...options,
    logLevel: (env.LOG_LEVEL || 'info') as 'info',
    logFormat: format,
    logLevelInString: env.LOG_LEVEL_IN_STRING === 'true',
    ...(env.LOG_MESSAGE_KEY ? { logMessageKey: env.LOG_MESSAGE_KEY } : {}),
    ...(env.SENTRY_DSN ? { sentryDsn: env.SENTRY_DSN } : {}),
  });
  await probe.ready();
  return probe.log as unknown as Logger;
}

const PEM = /-----BEGIN (?:RSA )?PRIVATE KEY-----[\s\S]*-----END (?:RSA )?PRIVATE KEY-----/;

/**
 * The private key as @probot/get-private-key finds it: PRIVATE_KEY (the PEM, with `\n`
 * escapes or on one line, or its base64), else PRIVATE_KEY_PATH, else the one `*.pem` file
 * in `cwd`.
 */
export function privateKeyFromEnv(env: StartServerOptions['env'], cwd: string): string | null {
  let key = env.PRIVATE_KEY;
  if (key) {
    if (Buffer.from(key, 'base64').toString('base64') === key) key = Buffer.from(key, 'base64').toString();
    key = key.replace(/\\n/g, '\n');
    const m = PEM.exec(key);
    if (!m) throw new Error('PRIVATE_KEY is not a PEM private key');
    if (!m[0].includes('\n'))
      key = m[0].replace(
        /(-----BEGIN [A-Z ]+-----)(.*)(-----END [A-Z ]+-----)/,
        (_w, b: string, body: string, e: string) => `${b}\n${body.trim()}\n${e}`,
      );
    return key;
  }
  if (env.PRIVATE_KEY_PATH) {
    const path = resolve(cwd, env.PRIVATE_KEY_PATH);
    if (!existsSync(path)) throw new Error(`PRIVATE_KEY_PATH: no such file: ${env.PRIVATE_KEY_PATH}`);
    return readFileSync(path, 'utf8');
  }
  const pems = readdirSync(cwd).filter((f) => f.endsWith('.pem'));
  if (pems.length === 1) return readFileSync(resolve(cwd, pems[0]!), 'utf8');
  return null;
}
