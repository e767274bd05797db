import type { Context } from 'probot';
import { loadRepoConfig } from '../config/repo-config.js';
import { isGastownError } from '../errors.js';
import { octokitGet } from '../forge/branch-protection.js';
import { GitHubForge } from '../forge/github-forge.js';
import type { PullRequestDelivery } from './advance-bead.js';
import { beadIdOfPullRequest } from './advance-bead.js';
import type { AppDeps, RepoScope } from './app-deps.js';
import type { AppMemory } from './app-memory.js';

/**
 * What a `pull_request.*` handler needs, or null when the pull request is not a polecat's
 * (not a `polecat/<name>/<bead>` branch of this very repository: polecats never push from
 * a fork) or the repository config is invalid. No config read, no ledger sync otherwise.
 */
export async function pullRequestDelivery(
  context: Context<'pull_request.closed'> | Context<'pull_request.opened'>,
  deps: AppDeps,
  memory?: AppMemory,
): Promise<{ delivery: PullRequestDelivery; scope: RepoScope } | null> {
  const { pull_request: pr, repository } = context.payload;
  if (beadIdOfPullRequest({ headRef: pr.head.ref, body: pr.body ?? null }) === null || pr.head.repo?.full_name !== repository.full_name)
    return null;
  return repositoryDelivery(context, deps, memory);
}

/**
 * The repository-level delivery of any event: config, forge and the ledger scope; null on
 * invalid config. These events come from automation, in bursts: a config read in the last
 * few seconds (`memory`) is used as it is.
 */
export async function repositoryDelivery(
  context:
    | Context<'pull_request.closed'>
    | Context<'pull_request.opened'>
    | Context<'workflow_run.completed'>
    | Context<'pull_request_review.submitted'>
    | Context<'pull_request_review_comment.created'>
    | Context<'issue_comment.created'>
    | Context<'check_suite.completed'>
    | Context<'check_run.completed'>,
  deps: AppDeps,
  memory?: AppMemory,
): Promise<{ delivery: PullRequestDelivery; scope: RepoScope } | null> {
  const { repository } = context.payload;
  const owner = repository.owner.login;
  const repo = repository.name;
  const installation = context.payload.installation?.id;
  let config = memory?.config(installation, owner, repo);
  if (!config) {
    try {
      config = await loadRepoConfig(context, { defaultModel: deps.defaultModel });
    } catch (err) {
      if (!isGastownError(err, 'gastown_config')) throw err;
      context.log.warn({ code: err.code }, 'Invalid repository config: event ignored');
      return null;
    }
    memory?.rememberConfig(installation, owner, repo, config);
  }
  // For the Deacon's timer, which visits the repository again with no delivery at hand.
  if (installation)
    deps.repositories?.record(
      { owner, repo, installationId: installation, defaultBranch: repository.default_branch, prefix: config.ledgerPrefix },
      context.log,
    );
  const delivery: PullRequestDelivery = {
    octokit: context.octokit,
    log: context.log,
    forge: new GitHubForge({ octokit: context.octokit, owner, repo, log: context.log, comments: memory?.commentBodies(installation) }),
    config,
    owner,
    repo,
    sender: context.payload.sender.login,
    defaultBranch: repository.default_branch,
  };
  const check = deps.branchProtection;
  if (check) delivery.protection = () => check(octokitGet(context.octokit), owner, repo, repository.default_branch);
  return { delivery, scope: { owner, repo, octokit: context.octokit, config, log: context.log, actor: 'gastown[bot]' } };
}
