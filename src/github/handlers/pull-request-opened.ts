/** `pull_request.opened`: a polecat's pull request is up; its convoy's status comment catches up. */
import type { Context } from 'probot';
import { loadRepoConfig } from '../../config/repo-config.js';
import { isGastownError } from '../../errors.js';
import { GitHubForge } from '../../forge/github-forge.js';
import { beadIdOfPullRequest, refreshOnOpened } from '../advance-bead.js';
import type { AppDeps } from '../app-deps.js';

export function pullRequestOpened(deps: AppDeps) {
  return async (context: Context<'pull_request.opened'>): Promise<void> => {
    const { pull_request: pr, repository } = context.payload;
    const opened = { number: pr.number, headRef: pr.head.ref, body: pr.body ?? null };
    if (beadIdOfPullRequest(opened) === null || pr.head.repo?.full_name !== repository.full_name) return;
    const owner = repository.owner.login;
    const repo = repository.name;
    let config;
    try {
      config = await loadRepoConfig(context, { defaultModel: deps.defaultModel });
    } catch (err) {
      if (!isGastownError(err, 'gastown_config')) throw err;
      context.log.warn({ code: err.code, pr: pr.number }, 'Invalid repository config: status not refreshed');
      return;
    }
    const forge = new GitHubForge({ octokit: context.octokit, owner, repo, log: context.log });
    const delivery = { octokit: context.octokit, log: context.log, forge, config, owner, repo, sender: context.payload.sender.login, defaultBranch: repository.default_branch };
    const scope = { owner, repo, octokit: context.octokit, config, log: context.log, actor: 'gastown[bot]' };
    const outcome = await deps.withRepo(scope, (services) => refreshOnOpened(delivery, services, opened));
    context.log.info({ pr: pr.number, outcome }, 'Handled opened pull request');
  };
}
