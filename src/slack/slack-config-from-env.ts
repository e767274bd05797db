import { GastownError } from '../errors.js';
import type { SlackAppConfig } from './create-slack-app.js';
import { GITHUB_LOGIN, REPO } from '../town/ids.js';

/** Everything Slack-related the process reads from its environment, read in this one place. */
export interface SlackConfig extends SlackAppConfig {
  /** Channel id (or name) of the feed; no feed is posted when unset. */
  feedChannel?: string;
  /** Slack user id → GitHub login (`SLACK_USER_MAP=U012AB:octocat,U034CD:hubot`). */
  userMap: Record<string, string>;
  /** Verified email → GitHub login (`SLACK_EMAIL_MAP=ada@example.com:ada`). */
  emailMap: Record<string, string>;
  defaultRepo?: string;
  /** More repositories whose beads, convoys and feeds Slack serves (SLACK_REPOS, comma-separated). */
  repos?: string[];
}

type Env = Readonly<Record<string, string | undefined>>;

function pairs(name: string, raw: string | undefined, keyOk: (k: string) => boolean): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw?.trim()) return out;
  for (const item of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const at = item.lastIndexOf(':');
    const key = item.slice(0, at).trim();
    const login = item.slice(at + 1).trim();
    if (at <= 0 || !keyOk(key) || !GITHUB_LOGIN.test(login)) {
      throw new GastownError('gastown_config', `${name}: "${item}" is not key:github-login`);
    }
    out[key] = login;
  }
  return out;
}

function optional(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

/**
 * The Slack config, or null when Slack is not configured: a bot token plus either a signing
 * secret (HTTP) or an app token (Socket Mode). Malformed maps throw `gastown_config`.
 */
export function slackConfigFromEnv(env: Env): SlackConfig | null {
  const botToken = optional(env, 'SLACK_BOT_TOKEN');
  const signingSecret = optional(env, 'SLACK_SIGNING_SECRET');
  const appToken = optional(env, 'SLACK_APP_TOKEN');
  if (!botToken || (!signingSecret && !appToken)) return null;

  const defaultRepo = optional(env, 'SLACK_DEFAULT_REPO');
  if (defaultRepo !== undefined && !REPO.test(defaultRepo)) {
    throw new GastownError('gastown_config', `SLACK_DEFAULT_REPO: "${defaultRepo}" is not owner/repo`);
  }
  const repos = (optional(env, 'SLACK_REPOS') ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const bad = repos.find((r) => !REPO.test(r));
  if (bad !== undefined) throw new GastownError('gastown_config', `SLACK_REPOS: "${bad}" is not owner/repo`);
  const cfg: SlackConfig = {
    botToken,
    userMap: pairs('SLACK_USER_MAP', env.SLACK_USER_MAP, (k) => /^[UW][A-Z0-9]+$/.test(k)),
    emailMap: pairs('SLACK_EMAIL_MAP', env.SLACK_EMAIL_MAP, (k) => /^[^\s@]+@[^\s@]+$/.test(k)),
  };
  const extra: Partial<SlackConfig> = {
    signingSecret,
    appToken,
    apiUrl: optional(env, 'SLACK_API_URL'),
    botId: optional(env, 'SLACK_BOT_ID'),
    botUserId: optional(env, 'SLACK_BOT_USER_ID'),
    feedChannel: optional(env, 'SLACK_FEED_CHANNEL'),
    defaultRepo,
    repos: repos.length ? repos : undefined,
  };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) Object.assign(cfg, { [k]: v });
  return cfg;
}
