#!/usr/bin/env node
// Starts the GitHub App server from the compiled app (run `npm run build` first).
// Without APP_ID/PRIVATE_KEY(_PATH) Probot serves its setup page (the app.yml manifest flow);
// that must work offline, so smee.io is not contacted unless NO_SMEE_SETUP is set otherwise.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { run } from 'probot';

const appPath = fileURLToPath(new URL('../dist/app.js', import.meta.url));
const hasCredentials = Boolean(process.env.APP_ID) && Boolean(process.env.PRIVATE_KEY || process.env.PRIVATE_KEY_PATH);
if (!hasCredentials && process.env.NO_SMEE_SETUP === undefined) process.env.NO_SMEE_SETUP = 'true';

if (!existsSync(appPath)) {
  console.error(`${appPath} is missing: run "npm run build" first.`);
  process.exit(1);
}

const { default: app } = await import(pathToFileURL(appPath).href);
await run(app);
