/**
 * Turns a Probot context into a `Delivery`: loads the repo config (an invalid one becomes one
 * comment on the issue when the event was meant for us) and builds the per-delivery forge.
 */
import type { Context } from 'probot';
import { defaultRepoConfig, loadRepoConfig } from '../config/repo-config.js';
import type { RepoConfig } from '../config/repo-config.js';
import { isGastownError } from '../errors.js';
import { octokitGet } from '../forge/branch-protection.js';
import { GitHubForge } from '../forge/github-forge.js';
import type { AppDeps } from './app-deps.js';
import type { AppMemory } from './app-memory.js';
import type { Delivery, IssueTarget } from './delivery.js';
import { renderFailureComment } from './report-failure.js';

type IssueEventContext = Context<'issues.labeled'> | Context<'issue_comment.created'>;

export function issueTarget(context: IssueEventContext, sender: string): IssueTarget {
  const { issue, repository } = context.payload;
  return {
    owner: repository.owner.login,
    repo: repository.name,
    issue: {
      number: issue.number,
      id: issue.id,
      title: issue.title,
      body: issue.body ?? null,
      url: issue.html_url,
      labels: (issue.labels ?? []).map((l) => (typeof l === 'string' ? l : l.name)),
    },
    sender,
  };
}

/**
 * The delivery, or null when the config is invalid (after telling the person, if
 * `isForUs(defaults)` says the event would have been ours under the default settings). A
 * person's event reads the config afresh (and `memory` keeps it for the events that follow).
 */
export async function loadDelivery(
  context: IssueEventContext,
  deps: AppDeps,
  sender: string,
  isForUs: (config: RepoConfig) => boolean,
  memory?: AppMemory,
): Promise<Delivery | null> {
  const target = issueTarget(context, sender);
  const forge = new GitHubForge({
    octokit: context.octokit,
    owner: target.owner,
    repo: target.repo,
    log: context.log,
    comments: memory?.commentBodies(context.payload.installation?.id),
  });
  let config: RepoConfig;
  try {
    config = await loadRepoConfig(context, { defaultModel: deps.defaultModel });
  } catch (err) {
    if (!isGastownError(err, 'gastown_config')) throw err;
    const defaults = defaultRepoConfig(deps.defaultModel);
    context.log.warn({ code: err.code }, 'Invalid repository config');
    if (isForUs(defaults)) {
      await forge.ensureStatusComment(
        target.issue.number,
        renderFailureComment(target.issue.number, { code: err.code, message: err.message }, defaults.labels.mayor),
      );
    }
    return null;
  }
  memory?.rememberConfig(context.payload.installation?.id, target.owner, target.repo, config);
  const defaultBranch = context.payload.repository.default_branch;
  const installationId = context.payload.installation?.id;
  // For the Deacon's timer, which visits the repository again with no delivery at hand.
  if (installationId)
    deps.repositories?.record(
      { owner: target.owner, repo: target.repo, installationId, defaultBranch, prefix: config.ledgerPrefix },
      context.log,
    );
  const check = deps.branchProtection;
  const protection = check ? () => check(octokitGet(context.octokit), target.owner, target.repo, defaultBranch) : undefined;
  return { octokit: context.octokit, log: context.log, forge, config, target, defaultBranch, ...(protection ? { protection } : {}) };
}
