import { GastownError } from '../errors.js';
import type { SlackListenerDeps } from './listener-deps.js';
import { requireWrite } from '../town/permissions.js';
import { requireLogin } from './permissions.js';
import type { RepoTarget } from './services.js';

export interface Authorized {
  login: string;
  repo: string;
}

/**
 * The gate in front of every changing command and button: the Slack user must be linked to a
 * GitHub login with write access to the repository the target belongs to. Fails closed: when
 * the repository cannot be told, nothing happens.
 */
export async function authorizeChange(
  deps: SlackListenerDeps,
  slackUser: string,
  target: RepoTarget | { repo: string },
  action: string,
): Promise<Authorized> {
  const login = await requireLogin(deps.identity, slackUser);
  const repo = 'repo' in target ? target.repo : ((await deps.services.repoOf(target)) ?? deps.defaultRepo);
  if (repo === undefined) {
    const what = Object.values(target)[0];
    throw new GastownError(
      'gastown_not_found',
      `Cannot tell which repository ${what} belongs to, so nobody may ${action} from Slack (no default repository is configured).`,
      { target },
    );
  }
  await requireWrite(deps.permissions, login, repo, action);
  return { login, repo };
}
