#!/usr/bin/env node
// Starts the GitHub App server from the compiled app (run `npm run build` first).
// Without APP_ID/PRIVATE_KEY(_PATH) Probot serves its setup page (the app.yml manifest flow);
// that must work offline, so smee.io is not contacted unless NO_SMEE_SETUP is set otherwise.
// A bad setting stops the start with one line on stderr and exit code 1 (LOG_LEVEL=debug
// prints the whole error).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseEnv } from 'node:util';
import { run } from 'probot';

const appPath = fileURLToPath(new URL('../dist/app.js', import.meta.url));

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
  const hasCredentials = Boolean(env.APP_ID) && Boolean(env.PRIVATE_KEY || env.PRIVATE_KEY_PATH);
  if (!hasCredentials && env.NO_SMEE_SETUP === undefined) process.env.NO_SMEE_SETUP = 'true';
  if (!existsSync(appPath)) throw new Error(`${appPath} is missing: run "npm run build" first.`);
  const { default: app, checkSettings, GastownOctokit } = await import(pathToFileURL(appPath).href);
  checkSettings(env);
  // Probot's Octokit, except that a secondary rate limit is waited out and retried (src/app.ts).
  await run(app, { Octokit: GastownOctokit });
} catch (err) {
  fail(err);
}
