import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Probot } from 'probot';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGastownApp } from '../../src/app.js';
import { createAppDeps } from '../../src/github/app-deps.js';
import { privateKey, silentLog, TestOctokit } from '../github/harness.js';
import { SIGNING_SECRET } from '../slack/helpers.js';
import { ensureBuiltApp, ROOT as root } from '../helpers/built-dist.js';
import { tempDir } from '../helpers/temp-repo.js';

const run = promisify(execFile);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** issues.opened built from the real issues.labeled fixture: an event the app does not handle (no API call). */
function issuesOpenedPayload(): Record<string, unknown> {
  const payload = JSON.parse(readFileSync(join(root, 'test/fixtures/github/issues.labeled.json'), 'utf8')) as Record<string, unknown>;
  delete payload.label;
  return { ...payload, action: 'opened' };
}

describe('the app loaded without a server', () => {
  it('loads with new Probot().load(app), Slack configured or not, and receives webhooks', async () => {
    for (const env of [{}, { SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: SIGNING_SECRET }]) {
      const data = tempDir('app-data');
      cleanups.push(data.cleanup);
      const deps = createAppDeps({ GASTOWN_DATA_DIR: data.path, ...env });
      cleanups.push(async () => deps.close?.());
      const probot = new Probot({ appId: 1, privateKey, Octokit: TestOctokit, log: silentLog });

      await probot.load(createGastownApp(deps));
      await probot.receive({ name: 'issues', id: 'no-server-1', payload: issuesOpenedPayload() as never });
    }
  });

  describe('probot receive (its local webhook runner) on the built app', () => {
    beforeAll(ensureBuiltApp, 120_000);

    it('runs the app on a fixture without crashing', async () => {
      const dir = tempDir('receive');
      cleanups.push(dir.cleanup);
      const fixture = join(dir.path, 'issues.opened.json');
      writeFileSync(fixture, JSON.stringify(issuesOpenedPayload()));

      const result = await run(join(root, 'node_modules/.bin/probot'), ['receive', '-e', 'issues', '-p', fixture, './dist/app.js'], {
        cwd: root,
        env: { PATH: process.env.PATH, APP_ID: '1', PRIVATE_KEY: privateKey, GASTOWN_DATA_DIR: join(dir.path, 'data'), LOG_LEVEL: 'info' },
        timeout: 60_000,
      }).catch((err: { code?: number; stdout?: string; stderr?: string }) => ({
        failed: err.code,
        stdout: err.stdout ?? '',
        stderr: err.stderr ?? '',
      }));

      expect(result).not.toHaveProperty('failed');
      expect(`${result.stdout}${result.stderr}`).not.toMatch(/No server instance|Error/);
    });
  });
});
