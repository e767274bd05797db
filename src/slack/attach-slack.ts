import type { App, webApi } from '@slack/bolt';
import { createSlackChat, createSlackChatClient } from './slack-chat.js';
import { GastownError } from '../errors.js';
import { createSlackApp } from './create-slack-app.js';
import { createFeedPump, type FeedPump } from './feed-pump.js';
import { createMailDmPump, type MailDmResult } from './mail-dm-pump.js';
import type { PermissionChecker } from '../town/permissions.js';
import { createIdentityResolver } from './permissions.js';
import { registerSlackListeners } from './register-listeners.js';
import type { RigProvider } from '../rig/rig-provider.js';
import { createRigSlackServices, type RigSlackServicesOptions } from './rig-services.js';
import type { SerialRunner } from './serial-runner.js';
import type { SlackServices } from './services.js';
import { slackConfigFromEnv } from './slack-config-from-env.js';
import type { NodeHandler } from './slack-http-receiver.js';
import type { StructuredLogger } from '../structured-logger.js';

export interface AttachSlackOptions {
  /** The process environment (SLACK_* variables); read here, nowhere else. */
  env: Readonly<Record<string, string | undefined>>;
  /** Probot's `addHandler`: the Slack route shares the app's HTTP server. Needed over HTTP, unused in Socket Mode. */
  addHandler?: (handler: NodeHandler) => void;
  logger: StructuredLogger;
  provider: RigProvider;
  /** Defaults to the provider's own checker (GitHub collaborator permission, or the local writers list). */
  permissions?: PermissionChecker;
  /** How often the pumps look for news without being nudged (default 15 s). */
  pumpIntervalMs?: number;
  /** Web API client options (tests: `{ retryConfig: { retries: 0 } }`). */
  clientOptions?: webApi.WebClientOptions;
  services?: Omit<RigSlackServicesOptions, 'onWrite'>;
}

export interface SlackHandle {
  app: App;
  services: SlackServices;
  /** Null when no feed channel is configured (SLACK_FEED_CHANNEL). */
  feedPump: FeedPump | null;
  mailPump: SerialRunner<MailDmResult[]>;
  /** Stops the pumps, lets acknowledged requests finish, closes Socket Mode. */
  stop(): Promise<void>;
}

/**
 * Slack in the app's process, in one call: nothing happens (null) unless Slack is configured
 * (SLACK_BOT_TOKEN plus SLACK_SIGNING_SECRET or SLACK_APP_TOKEN). Otherwise the Bolt app
 * serves /slack/events through `addHandler` (or Socket Mode), its listeners run over the real
 * services, and the feed and mail-DM pumps start (on a timer, and nudged after every write
 * made from Slack).
 */
export async function attachSlack(opts: AttachSlackOptions): Promise<SlackHandle | null> {
  const cfg = slackConfigFromEnv(opts.env);
  if (cfg === null) return null;
  const permissions = opts.permissions ?? opts.provider.permissions;
  if (permissions === undefined) {
    throw new GastownError('gastown_config', 'Slack needs a permission checker: the rig provider offers none and none was given.');
  }
  const { logger } = opts;
  const clientOptions = { ...cfg.clientOptions, ...opts.clientOptions };

  const slack = createSlackApp({ ...cfg, logger, clientOptions });
  if (slack.handler !== null) {
    if (!opts.addHandler)
      throw new GastownError('gastown_config', 'Slack over HTTP needs the host server (addHandler); set SLACK_APP_TOKEN for Socket Mode.');
    opts.addHandler(slack.handler);
  }
  const identity = createIdentityResolver({ client: slack.app.client, userMap: cfg.userMap, emailMap: cfg.emailMap });
  const chat = createSlackChat({
    client: createSlackChatClient({ botToken: cfg.botToken, ...(cfg.apiUrl !== undefined ? { apiUrl: cfg.apiUrl } : {}), clientOptions }),
    feedChannel: cfg.feedChannel ?? '',
    identity,
    logger,
  });
  const feedPump = cfg.feedChannel ? createFeedPump({ provider: opts.provider, chat, logger }) : null;
  const mailPump = createMailDmPump({ provider: opts.provider, chat, identity, logger });
  const services = createRigSlackServices(opts.provider, {
    ...opts.services,
    onWrite: () => {
      feedPump?.nudge();
      mailPump.nudge();
    },
  });
  registerSlackListeners(slack.app, {
    services,
    identity,
    permissions,
    logger,
    ...(cfg.defaultRepo !== undefined ? { defaultRepo: cfg.defaultRepo } : {}),
  });
  await slack.start();

  const interval = opts.pumpIntervalMs ?? 15_000;
  feedPump?.start(interval);
  mailPump.start(interval);
  logger.info({ mode: slack.handler ? 'http' : 'socket', feed: cfg.feedChannel !== undefined }, 'slack attached');

  return {
    app: slack.app,
    services,
    feedPump,
    mailPump,
    async stop() {
      await Promise.all([feedPump?.stop(), mailPump.stop()]);
      await slack.stop();
    },
  };
}
