import { App, SocketModeReceiver, type webApi } from '@slack/bolt';
import { GastownError } from '../errors.js';
import { boltLoggerFrom } from './bolt-logger.js';
import { type NodeHandler, SlackHttpReceiver } from './slack-http-receiver.js';
import { silentLogger, type StructuredLogger } from '../structured-logger.js';

export interface SlackAppConfig {
  botToken: string;
  /** Required over HTTP; unused in Socket Mode. */
  signingSecret?: string;
  /** `xapp-...`: when set, Bolt connects out over Socket Mode and no HTTP route is served. */
  appToken?: string;
  /** Web API base URL (`SLACK_API_URL`), e.g. a loopback stand-in in tests. */
  apiUrl?: string;
  /** With both ids known, Bolt never calls auth.test (no network needed at start-up). */
  botId?: string;
  botUserId?: string;
  logger?: StructuredLogger;
  clientOptions?: webApi.WebClientOptions;
}

export interface SlackAppHandle {
  app: App;
  /** For Probot's `addHandler`: serves POST /slack/events, returns false for other paths. Null in Socket Mode. */
  handler: NodeHandler | null;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Builds the Bolt app without opening a port: over HTTP it shares the host's server through
 * `handler`; in Socket Mode `start()` opens the socket. Listeners are registered separately
 * (`registerSlackListeners`), so wiring stays a few lines in the Probot app:
 *
 * ```ts
 * const cfg = slackConfigFromEnv(process.env);
 * if (cfg) {
 *   const slack = createSlackApp({ ...cfg, logger: app.log });
 *   const identity = createIdentityResolver({ client: slack.app.client, userMap: cfg.userMap, emailMap: cfg.emailMap });
 *   registerSlackListeners(slack.app, { services, identity, permissions, defaultRepo: cfg.defaultRepo, logger: app.log });
 *   if (slack.handler) addHandler(slack.handler);
 *   await slack.start();
 * }
 * ```
 *
 * Socket Mode note: Bolt's SocketModeReceiver opens its socket through slack.com even when
 * `apiUrl` is set (it takes no API URL); `apiUrl` applies to the Web API client only.
 */
export function createSlackApp(cfg: SlackAppConfig): SlackAppHandle {
  const logger = boltLoggerFrom(cfg.logger ?? silentLogger);
  const clientOptions: webApi.WebClientOptions = {
    ...cfg.clientOptions,
    ...(cfg.apiUrl !== undefined ? { slackApiUrl: cfg.apiUrl } : {}),
  };
  const common = {
    token: cfg.botToken,
    logger,
    clientOptions,
    ...(cfg.botId !== undefined ? { botId: cfg.botId } : {}),
    ...(cfg.botUserId !== undefined ? { botUserId: cfg.botUserId } : {}),
  };

  if (cfg.appToken) {
    const receiver = new SocketModeReceiver({ appToken: cfg.appToken, logger });
    const app = new App({ ...common, receiver });
    return {
      app,
      handler: null,
      start: async () => {
        await app.start();
      },
      stop: async () => {
        await app.stop();
      },
    };
  }

  if (!cfg.signingSecret) {
    throw new GastownError(
      'gastown_config',
      'Slack over HTTP needs a signing secret (SLACK_SIGNING_SECRET); set SLACK_APP_TOKEN instead for Socket Mode.',
    );
  }
  const receiver = new SlackHttpReceiver({ signingSecret: cfg.signingSecret, logger });
  const app = new App({ ...common, receiver });
  return {
    app,
    handler: receiver.handler,
    start: async () => {
      await app.start();
    },
    stop: async () => {
      await app.stop();
    },
  };
}
