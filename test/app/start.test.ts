import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { privateKey } from '../github/harness.js';
import { ensureBuiltApp, ROOT } from '../helpers/built-dist.js';
import { tempDir } from '../helpers/temp-repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** Runs `node bin/start.js` in an empty directory; kills it after 20 s (a start that did not stop). */
function start(env: Record<string, string>, dotEnv?: string): Promise<{ code: number | null; stderr: string }> {
  const dir = tempDir('start');
  cleanups.push(dir.cleanup);
  if (dotEnv !== undefined) writeFileSync(join(dir.path, '.env'), dotEnv);
  const base: Record<string, string> = { PATH: process.env.PATH!, NO_SMEE_SETUP: 'true', PORT: '1', GASTOWN_DATA_DIR: join(dir.path, 'data'), APP_ID: '1', PRIVATE_KEY: privateKey };
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
    ['the old .env.example user map', { ...slack, SLACK_USER_MAP: 'U024BE7LH=octocat' }, 'gastown: SLACK_USER_MAP: "U024BE7LH=octocat" is not key:github-login'],
    ['an unknown log level', { LOG_LEVEL: 'loud' }, 'gastown: Invalid environment: LOG_LEVEL: '],
    ['a private key that is not one', { PRIVATE_KEY: 'paste-me' }, 'gastown: Invalid environment: PRIVATE_KEY: is not a PEM private key'],
    ['a key file that is not there', { PRIVATE_KEY: '', PRIVATE_KEY_PATH: 'missing.pem' }, 'gastown: PRIVATE_KEY_PATH: no such file: missing.pem'],
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
