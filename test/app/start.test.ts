import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { privateKey } from '../github/harness.js';
import { ensureBuiltApp, ROOT } from '../helpers/built-dist.js';
import { tempDir } from '../helpers/temp-repo.js';
import { refused, sendBigBody } from '../helpers/big-body.js';
import { freePort } from '../helpers/free-port.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** Runs `node bin/start.js` in an empty directory; kills it after 20 s (a start that did not stop). */
function start(env: Record<string, string>, dotEnv?: string): Promise<{ code: number | null; stderr: string }> {
  const dir = tempDir('start');
  cleanups.push(dir.cleanup);
  if (dotEnv !== undefined) writeFileSync(join(dir.path, '.env'), dotEnv);
  const base: Record<string, string> = {
    PATH: process.env.PATH!,
    NO_SMEE_SETUP: 'true',
    PORT: '1',
    GASTOWN_DATA_DIR: join(dir.path, 'data'),
    APP_ID: '1',
    PRIVATE_KEY: privateKey,
  };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/start.js')], { cwd: dir.path, env: { ...base, ...env } as NodeJS.ProcessEnv });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('npm start with a bad setting', () => {
  beforeAll(ensureBuiltApp, 120_000);

  const slack = { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'secret' };
  const cases: [string, Record<string, string>, string][] = [
    [
      'the old .env.example user map',
      { ...slack, SLACK_USER_MAP: 'U024BE7LH=octocat' },
      'gastown: SLACK_USER_MAP: "U024BE7LH=octocat" is not key:github-login',
    ],
    ['an unknown log level', { LOG_LEVEL: 'loud' }, 'gastown: Invalid environment: LOG_LEVEL: '],
    [
      'a Deacon period that is not milliseconds',
      { GASTOWN_DEACON_EVERY_MS: '5m' },
      "gastown: Invalid environment: GASTOWN_DEACON_EVERY_MS: must be a number of milliseconds, at least 100 (0 turns the Deacon's timer off)",
    ],
    ['a private key that is not one', { PRIVATE_KEY: 'paste-me' }, 'gastown: Invalid environment: PRIVATE_KEY: is not a PEM private key'],
    [
      'a key file that is not there',
      { PRIVATE_KEY: '', PRIVATE_KEY_PATH: 'missing.pem' },
      'gastown: PRIVATE_KEY_PATH: no such file: missing.pem',
    ],
  ];
  for (const [what, env, line] of cases)
    it(`stops with one line naming the variable: ${what}`, async () => {
      const r = await start(env);

      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(line);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    });

  it('checks the .env file Probot would load too', async () => {
    const r = await start({}, 'SLACK_BOT_TOKEN=xoxb-test\nSLACK_SIGNING_SECRET=s\nSLACK_DEFAULT_REPO=not-a-repo\n');

    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('gastown: SLACK_DEFAULT_REPO: "not-a-repo" is not owner/repo');
  });
});

describe('npm start with credentials', () => {
  beforeAll(ensureBuiltApp, 120_000);

  it('refuses an oversized webhook with 413 and never prints a forged payload', async () => {
    const dir = tempDir('start-ok');
    cleanups.push(dir.cleanup);
    const port = await freePort();
    const env = {
      PATH: process.env.PATH!,
      NO_SMEE_SETUP: 'true',
      HOST: '127.0.0.1',
      PORT: String(port),
      GASTOWN_DATA_DIR: join(dir.path, 'data'),
      APP_ID: '1',
      PRIVATE_KEY: privateKey,
      WEBHOOK_SECRET: 'start-secret',
      LOG_LEVEL: 'trace',
      LOG_FORMAT: 'json',
    };
    const child = spawn(process.execPath, [join(ROOT, 'bin/start.js')], { cwd: dir.path, env: env as NodeJS.ProcessEnv });
    cleanups.push(() => child.kill('SIGKILL'));
    let output = '';
    const listening = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "Listening" line in 20 s:\n${output}`)), 20_000);
      const seen = (d: Buffer) => {
        output += d;
        if (output.includes('Listening on')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', seen);
      child.stderr.on('data', seen);
    });
    await listening;
    const url = `http://127.0.0.1:${port}/api/github/webhooks`;
    const forged = { 'x-github-event': 'issues', 'x-github-delivery': 'forged-1', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` };
    const canary = `CANARY-${Math.random().toString(36).slice(2)}`;

    const big = await sendBigBody(url, { bytes: 30 * 1024 * 1024, headers: forged });
    const bad = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...forged },
      body: JSON.stringify({ action: 'opened', note: canary }),
    });
    await new Promise((r) => setTimeout(r, 200));

    expect(refused(big), `status ${big.status}`).toBe(true);
    expect(big.sent).toBeLessThan(30 * 1024 * 1024);
    expect(bad.status).toBe(400);
    expect(output).toContain('signature does not match');
    expect(output).not.toContain(canary);
  }, 60_000);
});
