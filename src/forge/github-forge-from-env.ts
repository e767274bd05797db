/**
 * The GitHub forge a polecat uses inside a GitHub Actions job: the job's own token
 * (`GITHUB_TOKEN`), its repository (`GITHUB_REPOSITORY`) and the API the job is given
 * (`GITHUB_API_URL`: `https://api.github.com`, or `<server>/api/v3` on GitHub Enterprise
 * Server). Loaded only by `gt runner --forge github|auto`.
 */
import { ProbotOctokit } from 'probot';
import { GastownError } from '../errors.js';
import { GitHubForge } from './github-forge.js';

/** The API base URL an Actions job should call: GITHUB_API_URL, else github.com's. */
export function githubApiUrl(env: NodeJS.ProcessEnv): string {
  const url = env.GITHUB_API_URL?.trim();
  if (!url) return 'https://api.github.com';
  if (!/^https?:\/\/\S+$/.test(url)) throw new GastownError('gastown_config', `GITHUB_API_URL must be an http(s) URL (got ${url})`);
  return url.replace(/\/+$/, '');
}

export function githubForgeFromEnv(env: NodeJS.ProcessEnv): GitHubForge {
  const token = env.GITHUB_TOKEN?.trim();
  const repository = env.GITHUB_REPOSITORY?.trim();
  if (!token || !repository || !/^[^/\s]+\/[^/\s]+$/.test(repository))
    throw new GastownError('gastown_config', '--forge github needs GITHUB_TOKEN and GITHUB_REPOSITORY=owner/repo');
  const [owner, repo] = repository.split('/') as [string, string];
  return new GitHubForge({ octokit: new ProbotOctokit({ auth: { token }, baseUrl: githubApiUrl(env) }), owner, repo });
}
