import { describe, expect, it } from 'vitest';
import { slackConfigFromEnv } from '../../src/slack/slack-config-from-env.js';

describe('slackConfigFromEnv', () => {
  it('is null when Slack is not configured', () => {
    expect(slackConfigFromEnv({})).toBeNull();
    expect(slackConfigFromEnv({ SLACK_BOT_TOKEN: 'xoxb-1' })).toBeNull();
    expect(slackConfigFromEnv({ SLACK_SIGNING_SECRET: 's', SLACK_APP_TOKEN: 'xapp-1' })).toBeNull();
    expect(slackConfigFromEnv({ SLACK_BOT_TOKEN: '  ', SLACK_SIGNING_SECRET: 's' })).toBeNull();
  });

  it('reads HTTP mode with the maps, api url and defaults', () => {
    const cfg = slackConfigFromEnv({
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_SIGNING_SECRET: 'secret',
      SLACK_API_URL: 'http://127.0.0.1:9999/api/',
      SLACK_BOT_ID: 'B1',
      SLACK_BOT_USER_ID: 'U0BOT',
      SLACK_FEED_CHANNEL: 'C0FEED',
      SLACK_DEFAULT_REPO: 'acme/web',
      SLACK_USER_MAP: 'U012AB:octocat, W034CD:hubot',
      SLACK_EMAIL_MAP: 'Ada@Example.com:ada',
    });

    expect(cfg).toEqual({
      botToken: 'xoxb-1',
      signingSecret: 'secret',
      apiUrl: 'http://127.0.0.1:9999/api/',
      botId: 'B1',
      botUserId: 'U0BOT',
      feedChannel: 'C0FEED',
      defaultRepo: 'acme/web',
      userMap: { U012AB: 'octocat', W034CD: 'hubot' },
      emailMap: { 'Ada@Example.com': 'ada' },
    });
  });

  it('reads SLACK_REPOS as a list of owner/repo and refuses anything else', () => {
    const base = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' };
    expect(slackConfigFromEnv({ ...base, SLACK_REPOS: ' acme/web , acme/api ' })?.repos).toEqual(['acme/web', 'acme/api']);
    expect(slackConfigFromEnv(base)?.repos).toBeUndefined();
    expect(() => slackConfigFromEnv({ ...base, SLACK_REPOS: 'acme/web,nope' })).toThrow(/SLACK_REPOS: "nope" is not owner\/repo/);
  });

  it('reads Socket Mode without a signing secret', () => {
    expect(slackConfigFromEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' })).toEqual({
      botToken: 'xoxb-1',
      appToken: 'xapp-1',
      userMap: {},
      emailMap: {},
    });
  });

  it.each([
    [{ SLACK_USER_MAP: 'octocat' }, /SLACK_USER_MAP/],
    [{ SLACK_USER_MAP: 'not-a-user:octocat' }, /SLACK_USER_MAP/],
    [{ SLACK_EMAIL_MAP: 'ada:ada' }, /SLACK_EMAIL_MAP/],
    [{ SLACK_EMAIL_MAP: 'ada@example.com:bad login' }, /SLACK_EMAIL_MAP/],
    [{ SLACK_DEFAULT_REPO: 'web' }, /SLACK_DEFAULT_REPO/],
  ])('rejects malformed %j', (extra, error) => {
    expect(() => slackConfigFromEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', ...extra })).toThrow(error);
  });
});
