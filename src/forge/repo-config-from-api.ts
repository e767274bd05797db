/**
 * `.github/gastown.yml` read through the GitHub API, where there is no webhook context: by
 * the token exchange endpoint and by a polecat on GitHub Actions. Read as Probot's
 * `context.config` reads it (the repository's file, else the owner's `.github` repository,
 * `_extends` followed), then validated like the app's own config.
 */
import type { ProbotOctokit } from 'probot';
import { loadRepoConfig, type RepoConfig } from '../config/repo-config.js';

type Octokit = InstanceType<typeof ProbotOctokit>;

export function loadRepoConfigFromApi(
  octokit: Octokit,
  owner: string,
  repo: string,
  opts: { defaultModel?: string } = {},
): Promise<RepoConfig> {
  return loadRepoConfig(
    {
      async config<T>(fileName: string, defaultConfig?: T): Promise<T | null> {
        const { config, files } = await octokit.config.get({ owner, repo, path: `.github/${fileName}` });
        if (!files.some((f) => f.config !== null)) return defaultConfig ?? null;
        return config as T;
      },
    },
    opts,
  );
}
