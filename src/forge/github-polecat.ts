/**
 * What a polecat runner changes when it works for GitHub (`gt runner --forge github`, the
 * polecat action): its pull requests say so when they were opened with the workflow's
 * GITHUB_TOKEN (GASTOWN_TOKEN_FALLBACK, set by the action when the app gave no scoped token),
 * and the script agent runs only vouched-for blocks (vouched-script-agent.ts). Issues are
 * read with GASTOWN_WORKFLOW_TOKEN when the action gives it (the workflow's token may read
 * issues; the app's scoped token carries contents and pull requests only), else GITHUB_TOKEN.
 */
import { ProbotOctokit } from 'probot';
import type { PolecatAgent } from '../polecat/agents/agent.js';
import type { Rig } from '../rig/rig.js';
import type { Bead, Convoy } from '../town/types.js';
import type { ForgePort } from './forge-port.js';
import { githubApiUrl } from './github-forge-from-env.js';
import { fallbackTokenNote, withPullRequestNote } from './pull-request-note.js';
import { loadRepoConfigFromApi } from './repo-config-from-api.js';
import { vouchedScriptAgent, vouchForIssue } from './vouched-script-agent.js';

export interface GitHubPolecatInput {
  forge: ForgePort;
  rig: Rig;
  env: NodeJS.ProcessEnv;
}

export function forGitHubPolecat(input: GitHubPolecatInput): { forge: ForgePort; scriptGuard: (script: PolecatAgent) => PolecatAgent } {
  const { env, rig } = input;
  const fallback = env.GASTOWN_TOKEN_FALLBACK?.trim();
  const forge = fallback ? withPullRequestNote(input.forge, (pr) => fallbackTokenNote(pr, fallback)) : input.forge;

  const [owner, repo] = (env.GITHUB_REPOSITORY ?? '').split('/') as [string, string];
  const token = env.GASTOWN_WORKFLOW_TOKEN?.trim() || env.GITHUB_TOKEN?.trim();
  const octokit = new ProbotOctokit({ auth: { token }, baseUrl: githubApiUrl(env) });
  let enabled: Promise<boolean> | null = null;
  const options = {
    enabled: () => (enabled ??= loadRepoConfigFromApi(octokit, owner, repo).then((c) => c.agents.script)),
    sources: async (beadId: string) => {
      const bead = (await rig.ledger.get<Bead>('beads', beadId))?.value;
      const convoy = bead?.convoy ? (await rig.ledger.get<Convoy>('convoys', bead.convoy))?.value : null;
      const parent =
        convoy?.source?.kind === 'github' && convoy.source.repo?.toLowerCase() === `${owner}/${repo}`.toLowerCase()
          ? convoy.source.issue?.number
          : undefined;
      return [parent, bead?.issue?.number].filter((n): n is number => typeof n === 'number');
    },
    vouch: (number: number) => vouchForIssue(octokit, owner, repo, number),
  };
  return { forge, scriptGuard: (script) => vouchedScriptAgent(script, options) };
}
