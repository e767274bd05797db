/**
 * The Probot app. `createGastownApp(deps)` wires the webhook handlers and HTTP routes to the
 * given services; the default export builds those services from the environment (the one
 * place that reads `process.env`) for `probot run` and bin/start.js.
 */
import { existsSync } from 'node:fs';
import { ProbotOctokit, type ApplicationFunction } from 'probot';
import { GastownError } from './errors.js';
import { createAppDeps } from './github/app-deps.js';
import { deaconVisit } from './github/deacon-visit.js';
import { AppMemory } from './github/app-memory.js';
import type { AppDeps } from './github/app-deps.js';
import { checkRunCompleted } from './github/handlers/check-run-completed.js';
import { checkSuiteCompleted } from './github/handlers/check-suite-completed.js';
import { issueCommentCreated } from './github/handlers/issue-comment-created.js';
import { issuesLabeled } from './github/handlers/issues-labeled.js';
import { pullRequestClosed } from './github/handlers/pull-request-closed.js';
import { pullRequestOpened } from './github/handlers/pull-request-opened.js';
import { pullRequestReviewCommentCreated } from './github/handlers/pull-request-review-comment-created.js';
import { pullRequestReviewSubmitted } from './github/handlers/pull-request-review-submitted.js';
import { workflowRunCompleted } from './github/handlers/workflow-run-completed.js';
import { healthHandler } from './github/health-handler.js';
import { createTokenExchange } from './github/token-exchange/exchange-token.js';
import { tokenHandler } from './github/token-exchange/token-handler.js';
import { actionsTokenVerifier } from './github/token-exchange/verify-actions-token.js';
import { loadEnvConfig } from './config/env-config.js';
import { attachSlackForGithub } from './attach-slack-github.js';
import { slackConfigFromEnv } from './slack/slack-config-from-env.js';

export type { AppDeps };

export function createGastownApp(deps: AppDeps): ApplicationFunction {
  return async (app, { addHandler }) => {
    // Its own bot login (asked once, with the JWT) and repository configs for a short while.
    const memory = new AppMemory({
      appSlug: async () => {
        const { data } = await (await app.auth()).rest.apps.getAuthenticated();
        if (!data?.slug) throw new Error('GitHub did not name the app');
        return data.slug;
      },
    });
    app.on('issues.labeled', issuesLabeled(deps, memory));
    app.on('issue_comment.created', issueCommentCreated(deps, memory));
    app.on('pull_request.closed', pullRequestClosed(deps, memory));
    app.on('pull_request.opened', pullRequestOpened(deps, memory));
    app.on('workflow_run.completed', workflowRunCompleted(deps, memory));
    app.on('pull_request_review.submitted', pullRequestReviewSubmitted(deps, memory));
    app.on('pull_request_review_comment.created', pullRequestReviewCommentCreated(deps, memory));
    app.on('check_suite.completed', checkSuiteCompleted(deps, memory));
    app.on('check_run.completed', checkRunCompleted(deps, memory));
    // The Deacon on a timer (GASTOWN_DEACON_EVERY_MS): a dispatch pass on each repository with
    // an active convoy even when no webhook comes. Unref'd, so a load without a server
    // (`probot receive`) still exits; `deps.close()` stops it.
    deps.startDeacon?.(deaconVisit({ deps, auth: (id) => app.auth(id), memory, repositories: deps.repositories, log: app.log }), app.log);
    // Without a server (`probot receive`, `new Probot().load(app)`) there is no HTTP route to
    // add and no long-lived process for Slack's pumps: webhooks are all such a load handles.
    if (!tryAddHandler(addHandler, healthHandler(deps.version))) {
      app.log.debug('loaded without a server: no /gastown/health, no /gastown/token, no Slack');
      return;
    }
    // Polecat jobs trade their Actions OIDC token for a token scoped to their repository.
    if (deps.env && deps.mirrors) {
      const mirrors = deps.mirrors;
      const exchange = createTokenExchange({
        verify: actionsTokenVerifier(loadEnvConfig(deps.env).oidc),
        appOctokit: () => app.auth(),
        installationOctokit: (id) => app.auth(id),
        mirrors,
        defaultModel: deps.defaultModel,
        log: app.log,
      });
      addHandler(tokenHandler(exchange, app.log));
    }
    // Slack shares the server and the ledger mirrors; it stays off unless SLACK_* is set.
    if (deps.env && deps.mirrors)
      await attachSlackForGithub({ env: deps.env, app, addHandler, mirrors: deps.mirrors, defaultModel: deps.defaultModel });
  };
}

type AddHandler = Parameters<ApplicationFunction>[1]['addHandler'];

/**
 * Adds a route, or returns false when the app was loaded without a server. Probot 14 always
 * passes an `addHandler`, one that throws "No server instance" when there is no server
 * (TOOLCHAIN pitfall 16); that message is the only sign it gives, so it is matched here.
 */
function tryAddHandler(addHandler: AddHandler, handler: Parameters<AddHandler>[0]): boolean {
  try {
    addHandler(handler);
    return true;
  } catch (err) {
    if (err instanceof Error && err.message === 'No server instance') return false;
    throw err;
  }
}

/**
 * Reads every setting the app and the Slack bot take from the environment, so bin/start.js
 * can stop a start with one line naming the bad variable (GastownError 'gastown_config')
 * before Probot or a handler trips over it.
 */
export function checkSettings(env: Readonly<Record<string, string | undefined>>): void {
  loadEnvConfig(env);
  slackConfigFromEnv(env);
  // Probot reads the file itself, relative to the working directory; a missing one would only
  // print a stack trace and fall back to the setup flow.
  const keyPath = env.PRIVATE_KEY_PATH?.trim();
  if (keyPath && !env.PRIVATE_KEY?.trim() && !existsSync(keyPath))
    throw new GastownError('gastown_config', `PRIVATE_KEY_PATH: no such file: ${keyPath}`);
}

/** How many times a request GitHub turned down with a secondary rate limit is tried again. */
export const SECONDARY_RATE_LIMIT_RETRIES = 2;

/**
 * Probot's Octokit for `npm start` (bin/start.js passes it to Probot's `run`). Probot's own
 * settings only log a secondary rate limit and give up, which fails a whole plan halfway
 * (a person must re-add the label); this one waits GitHub's `retry-after` and tries again,
 * twice. Everything else is Probot's.
 */
export const GastownOctokit = ProbotOctokit.defaults((options: any) => ({
  ...options,
  throttle: {
    ...options.throttle,
    onSecondaryRateLimit: (
      retryAfter: number,
      request: { method: string; url: string },
      octokit: { log: { warn(msg: string): void } },
      retryCount: number,
    ) => {
      octokit.log.warn(
        `Secondary rate limit on ${request.method} ${request.url}: retrying in ${retryAfter} s (${retryCount + 1}/${SECONDARY_RATE_LIMIT_RETRIES})`,
      );
      return retryCount < SECONDARY_RATE_LIMIT_RETRIES;
    },
  },
}));

const gastownApp: ApplicationFunction = (app, options) => createGastownApp(createAppDeps(process.env))(app, options);

export default gastownApp;
