/**
 * What one webhook delivery hands to the flows: the per-installation client, logger and forge
 * (never shared between deliveries), the repo config, and the issue it is about.
 */
import type { Logger } from 'pino';
import type { ProbotOctokit } from 'probot';
import type { RepoConfig } from '../config/repo-config.js';
import type { RepoScope } from './app-deps.js';
import type { BranchProtection } from '../forge/branch-protection.js';
import type { ForgePort } from '../forge/forge-port.js';
import { githubSourceKey } from './github-keys.js';

export interface IssueTarget {
  owner: string;
  repo: string;
  issue: { number: number; id: number; title: string; body: string | null; url: string; labels: string[] };
  /** Login of the person who added the label or wrote the command. */
  sender: string;
}

export interface Delivery {
  octokit: InstanceType<typeof ProbotOctokit>;
  log: Logger;
  forge: ForgePort;
  config: RepoConfig;
  target: IssueTarget;
  /** The repository's default branch: workflow runs start there. */
  defaultBranch: string;
  /** Whether the default branch is protected on GitHub's side (for the status comment); absent: not checked. */
  protection?: () => Promise<BranchProtection>;
}

/** The source key of the convoy planned from this parent issue (what makes planning idempotent). */
export function parentKey(target: IssueTarget): string {
  return githubSourceKey(`${target.owner}/${target.repo}`, target.issue.number);
}

/** The repository and actor of a delivery, for `AppDeps.withRepo`. */
export function repoScope(delivery: Delivery, actor: string = delivery.target.sender): RepoScope {
  return {
    owner: delivery.target.owner,
    repo: delivery.target.repo,
    octokit: delivery.octokit,
    config: delivery.config,
    log: delivery.log,
    actor,
  };
}

/**
 * The repository's web address, taken from the issue's own `html_url` (so a GitHub Enterprise
 * host is kept); github.com when the issue URL is not of the usual shape.
 */
export function repoUrl(target: IssueTarget): string {
  const suffix = `/issues/${target.issue.number}`;
  const url = target.issue.url;
  return /^https?:\/\//.test(url) && url.endsWith(suffix)
    ? url.slice(0, -suffix.length)
    : `https://github.com/${target.owner}/${target.repo}`;
}
