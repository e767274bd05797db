import type { Logger } from 'pino';
import type { ProbotOctokit } from 'probot';
import { createGithubRigProvider } from './github/github-rig-provider.js';
import type { LedgerMirrors } from './github/ledger-mirror.js';
import { attachSlack, type AttachSlackOptions, type SlackHandle } from './slack/attach-slack.js';
import { slackConfigFromEnv } from './slack/slack-config-from-env.js';

export interface AttachSlackForGithubOptions {
  env: AttachSlackOptions['env'];
  /** The Probot instance the app function receives: its `auth` (app and installation clients) and `log`. */
  app: { auth(installationId?: number): Promise<InstanceType<typeof ProbotOctokit>>; log: Logger };
  /** Probot's `addHandler`. */
  addHandler: NonNullable<AttachSlackOptions['addHandler']>;
  /** The app's ledger mirrors (the same instance the webhook handlers use). */
  mirrors: Pick<LedgerMirrors, 'withRepoLedger'>;
  defaultModel?: string;
}

/**
 * Where GitHub and Slack meet, at the composition root beside app.ts (neither layer imports
 * the other). The one call src/app.ts makes: Slack over the GitHub app's ledger mirrors, permissions
 * from GitHub collaborators, default repository from SLACK_DEFAULT_REPO. Null (and nothing
 * done) when Slack is not configured.
 *
 * ```ts
 * export function createGastownApp(deps: AppDeps): ApplicationFunction {
 *   return async (app, { addHandler }) => {
 *     ...
 *     await attachSlackForGithub({ env: process.env, app, addHandler, mirrors: deps.mirrors });
 *   };
 * }
 * ```
 */
export async function attachSlackForGithub(opts: AttachSlackForGithubOptions): Promise<SlackHandle | null> {
  const cfg = slackConfigFromEnv(opts.env);
  if (cfg === null) return null;
  const provider = createGithubRigProvider({
    mirrors: opts.mirrors,
    auth: (id) => opts.app.auth(id),
    defaultRepo: cfg.defaultRepo ?? null,
    ...(cfg.repos ? { repos: cfg.repos } : {}),
    log: opts.app.log,
    ...(opts.defaultModel !== undefined ? { defaultModel: opts.defaultModel } : {}),
  });
  return attachSlack({ env: opts.env, addHandler: opts.addHandler, logger: opts.app.log, provider });
}
