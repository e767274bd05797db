/**
 * What a polecat runner changes when it works for GitHub (`gt runner --forge github`, the
 * polecat action): its pull requests say so when they were opened with the workflow's
 * GITHUB_TOKEN (GASTOWN_TOKEN_FALLBACK, set by the action when the app gave no scoped token).
 */
import type { AgentFactory } from '../polecat/runner/agent-from-settings.js';
import type { Rig } from '../rig/rig.js';
import type { ForgePort } from './forge-port.js';
import { fallbackTokenNote, withPullRequestNote } from './pull-request-note.js';

export interface GitHubPolecatInput {
  forge: ForgePort;
  agentFactory: AgentFactory;
  agentKind: string;
  rig: Rig;
  env: NodeJS.ProcessEnv;
}

export function forGitHubPolecat(input: GitHubPolecatInput): { forge: ForgePort; agentFactory: AgentFactory } {
  const { env } = input;
  const fallback = env.GASTOWN_TOKEN_FALLBACK?.trim();
  const forge = fallback ? withPullRequestNote(input.forge, (pr) => fallbackTokenNote(pr, fallback)) : input.forge;
  return { forge, agentFactory: input.agentFactory };
}
