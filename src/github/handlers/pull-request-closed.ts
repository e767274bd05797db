/** `pull_request.closed`: a polecat's pull request was merged or closed (flow 4). */
import type { Context } from 'probot';
import { loadRepoConfig } from '../../config/repo-config.js';
import { isGastownError } from '../../errors.js';
import { GitHubForge } from '../../forge/github-forge.js';
import { advanceOnClose, beadIdOfPullRequest } from '../advance-bead.js';
import type { PullRequestDelivery } from '../advance-bead.js';
import type { AppDeps } from '../app-deps.js';

export function pullRequestClosed(deps: AppDeps) {
  return async (context: Context<'pull_request.closed'>): Promise<void> => {
    const { pull_request: pr, repository } = context.payload;
    const closed = { number: pr.number, url: pr.html_url, merged: pr.merged === true, headRef: pr.head.ref, body: pr.body ?? null };
    // Not a polecat's pull request (polecats push to the repository itself, never from a
    // fork): no config read, no ledger sync.
    if (beadIdOfPullRequest(closed) === null || pr.head.repo?.full_name !== repository.full_name) return;
    const owner = repository.owner.login;
    const repo = repository.name;
    let config;
    try {
      config = await loadRepoConfig(context, { defaultModel: deps.defaultModel });
    } catch (err) {
      if (!isGastownError(err, 'gastown_config')) throw err;
      context.log.warn({ code: err.code, pr: pr.number }, 'Invalid repository config: pull request not advanced');
      return;
    }
    const delivery: PullRequestDelivery = {
      octokit: context.octokit,
      log: context.log,
      forge: new GitHubForge({ octokit: context.octokit, owner, repo, log: context.log }),
      config,
      owner,
      repo,
      sender: context.payload.sender.login,
      defaultBranch: repository.default_branch,
    };
    const scope = { owner, repo, octokit: context.octokit, config, log: context.log, actor: 'gastown[bot]' };
    const outcome = await deps.withRepo(scope, (services) => advanceOnClose(delivery, services, closed));
    context.log.info({ pr: pr.number, merged: closed.merged, outcome }, 'Handled closed pull request');
  };
}
