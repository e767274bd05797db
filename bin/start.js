#!/usr/bin/env node
// Starts the GitHub App server from the compiled app (run `npm run build` first).
// Without APP_ID/PRIVATE_KEY(_PATH) Probot serves its setup page (the app.yml manifest flow);
// that must work offline, so smee.io is not contacted unless NO_SMEE_SETUP is set otherwise.
// A bad setting stops the start with one line on stderr and exit code 1 (LOG_LEVEL=debug
// prints the whole error).
// With credentials the server is built by dist/start-server.js rather than Probot's run(): the
// same settings, plus the request guards (body size limits, webhook signatures checked before
// anything is buffered or logged) in front of Probot's request listener.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseEnv } from 'node:util';
import { run } from 'probot';

const appPath = fileURLToPath(new URL('../dist/app.js', import.meta.url));
const startServerPath = fileURLToPath(new URL('../dist/start-server.js', import.meta.url));

function fail(err) {
  const env = withDotEnv();
  if (env.LOG_LEVEL === 'debug' || env.LOG_LEVEL === 'trace') console.error(err);
  const message = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ');
  console.error(`gastown: ${message}`);
  process.exit(1);
}

/** The environment Probot will see: it applies ./.env over process.env when it starts. */
function withDotEnv() {
  try {
    return { ...process.env, ...parseEnv(readFileSync(join(process.cwd(), '.env'), 'utf8')) };
  } catch (err) {
    if (err.code === 'ENOENT') return process.env;
    throw err;
  }
}

try {
  const env = withDotEnv();
  if (!existsSync(appPath)) throw new Error(`${appPath} is missing: run "npm run build" first.`);
  const { default: app, checkSettings, GastownOctokit } = await import(pathToFileURL(appPath).href);
  const { startServer, privateKeyFromEnv } = await import(pathToFileURL(startServerPath).href);
  checkSettings(env);
  // Probot finds a key in PRIVATE_KEY, PRIVATE_KEY_PATH or a lone *.pem file here; so do we.
  const hasCredentials = Boolean(env.APP_ID) && privateKeyFromEnv(env, process.cwd()) !== null;
  if (hasCredentials) {
    // As Probot's run() does: .env over the process environment, for the app's own settings.
    Object.assign(process.env, env);
    // Probot's Octokit, except that a secondary rate limit is waited out and retried (src/app.ts).
    const started = await startServer(app, { env: process.env, Octokit: GastownOctokit });
    // SIGTERM too: what `docker stop` and Kubernetes send (and node as a container's pid 1
    // has no default action for it, so without a handler the stop waits for SIGKILL).
    const stop = async () => {
      console.info('Stopping server...');
      try {
        await started.stop();
        process.exit(0);
      } catch (err) {
        console.error(err);
        process.exit(1);
      }
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  } else {
    // Setup mode (the app.yml manifest flow): Probot's own server, which must work offline.
    if (env.NO_SMEE_SETUP === undefined) process.env.NO_SMEE_SETUP = 'true';
    await run(app, { Octokit: GastownOctokit });
  }
} catch (err) {
  fail(err);
}
