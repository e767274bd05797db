import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadEnvConfig } from '../../src/config/env-config.js';
import { slackConfigFromEnv } from '../../src/slack/slack-config-from-env.js';

const text = readFileSync(join(import.meta.dirname, '..', '..', '.env.example'), 'utf8');

/** Every assignment in .env.example: the live ones, and the commented-out examples that show a value. */
function exampleEnv(): Record<string, string> {
  const commented = text
    .split('\n')
    .map((line) => /^#\s*([A-Z][A-Z0-9_]*=\S.*)$/.exec(line)?.[1])
    .filter((l): l is string => l !== undefined)
    .join('\n');
  return { ...parseEnv(commented), ...parseEnv(text) } as Record<string, string>;
}

describe('.env.example', () => {
  it('holds only values the real parsers accept, commented-out examples included', () => {
    const env = exampleEnv();
    const slackEnv = { ...env, SLACK_BOT_TOKEN: 'xoxb-example', SLACK_SIGNING_SECRET: 'example-secret' };

    expect(() => loadEnvConfig(env)).not.toThrow();
    const slack = slackConfigFromEnv(slackEnv);
    expect(Object.keys(env)).toEqual(
      expect.arrayContaining(['SLACK_USER_MAP', 'SLACK_EMAIL_MAP', 'SLACK_REPOS', 'SLACK_DEFAULT_REPO', 'GHE_HOST', 'WEBHOOK_PROXY_URL']),
    );
    expect(slack?.userMap).toEqual({ U024BE7LH: 'octocat', W012A3CDE: 'hubot' });
    expect(slack?.emailMap).toEqual({ 'ada@example.com': 'ada' });
  });

  it("lists Probot's own settings a person needs, each with a comment", () => {
    for (const name of ['WEBHOOK_PROXY_URL', 'WEBHOOK_PATH', 'HOST', 'GHE_HOST', 'LOG_LEVEL']) {
      const lines = text.split('\n');
      const at = lines.findIndex((l) => new RegExp(`^(# )?${name}=`).test(l));

      expect(at, name).toBeGreaterThan(0);
      expect(lines[at - 1], name).toMatch(/^# [A-Z(a-z]/);
    }
  });

  it('a bad value names its variable in one line', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ LOG_LEVEL: 'loud' }, /^Invalid environment: LOG_LEVEL: /],
      [{ GHE_HOST: 'https://ghe.example.com' }, /^Invalid environment: GHE_HOST: must be a host name/],
      [{ WEBHOOK_PATH: 'hooks' }, /^Invalid environment: WEBHOOK_PATH: must be a path/],
      [{ PRIVATE_KEY: 'not a key' }, /^Invalid environment: PRIVATE_KEY: is not a PEM private key/],
    ];
    for (const [env, message] of cases) {
      let thrown: unknown;
      try {
        loadEnvConfig(env);
      } catch (err) {
        thrown = err;
      }

      expect((thrown as Error).message).toMatch(message);
      expect((thrown as Error).message).not.toContain('\n');
    }
  });
});
