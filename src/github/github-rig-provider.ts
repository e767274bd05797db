import type { Logger } from 'pino';
import type { ProbotOctokit } from 'probot';
import { parseRepoConfig, type RepoConfig } from '../config/repo-config.js';
import { GastownError } from '../errors.js';
import type { IssueFlow, RigProvider } from '../rig/rig-provider.js';
import type { Rig } from '../rig/rig.js';
import { onBehalfOfMarker, REPO } from '../town/ids.js';
import type { PermissionChecker } from '../town/permissions.js';
import { githubSourceKey } from './github-keys.js';
import type { LedgerMirrors } from './ledger-mirror.js';
import { getPermission } from '../forge/github-permission.js';

type Octokit = InstanceType<typeof ProbotOctokit>;

export interface GithubRigProviderOptions {
  /** The app's ledger mirrors (one per repository, synced with the installation token). */
  mirrors: Pick<LedgerMirrors, 'withRepoLedger'>;
  /** Probot's `app.auth`: without an id the app's own (JWT) client, with one an installation's. */
  auth: (installationId?: number) => Promise<Octokit>;
  /** `owner/repo` for commands that name none (SLACK_DEFAULT_REPO). */
  defaultRepo?: string | null;
  /** Further repositories searched when a command names a bead, convoy or agent by id. */
  repos?: readonly string[];
  /** For `.github/gastown.yml` values without a model. */
  defaultModel?: string;
  log?: Logger;
  /** How long a repository's installation id and config are trusted (default 5 minutes). */
  cacheTtlMs?: number;
  now?: () => number;
}

interface RepoAccess {
  octokit: Octokit;
  config: RepoConfig;
}

function split(repo: string): { owner: string; name: string } {
  if (!REPO.test(repo)) throw new GastownError('gastown_bad_input', `${JSON.stringify(repo)} is not owner/repo`);
  const [owner, name] = repo.split('/') as [string, string];
  return { owner, name };
}

function firstLine(text: string): string {
  const line =
    text
      .split('\n')
      .map((l) => l.trim())
      .find(Boolean) ?? 'Goal from Slack';
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

/** The installation token of an installation client (Probot caches it per installation). */
async function tokenOf(octokit: Octokit): Promise<string> {
  const auth = (await octokit.auth({ type: 'installation' })) as { token?: unknown };
  if (typeof auth.token !== 'string') throw new GastownError('gastown_forge', 'the installation has no token');
  return auth.token;
}

/**
 * Rigs over the GitHub app's ledger mirrors: a repository's installation is found through
 * the app client (`apps.getRepoInstallation`), its config read from `.github/gastown.yml`,
 * and its mirror synced with that installation's token around every visit. Permissions are
 * the repository's collaborator permissions.
 */
export function createGithubRigProvider(opts: GithubRigProviderOptions): RigProvider {
  const ttl = opts.cacheTtlMs ?? 5 * 60_000;
  const now = opts.now ?? Date.now;
  const defaultRepo = opts.defaultRepo ?? null;
  const cache = new Map<string, { access: Promise<RepoAccess>; until: number }>();

  async function load(repo: string): Promise<RepoAccess> {
    const { owner, name } = split(repo);
    const app = await opts.auth();
    let installationId: number;
    try {
      installationId = (await app.rest.apps.getRepoInstallation({ owner, repo: name })).data.id;
    } catch (err) {
      if ((err as { status?: number }).status === 404) {
        throw new GastownError('gastown_not_found', `The Gas Town app is not installed on ${repo}.`, { repo });
      }
      throw err;
    }
    const octokit = await opts.auth(installationId);
    let raw: unknown = {};
    try {
      raw = (await octokit.config.get({ owner, repo: name, path: '.github/gastown.yml' })).config;
    } catch (err) {
      if ((err as { status?: number }).status !== undefined) throw err;
      throw new GastownError('gastown_config', `Invalid .github/gastown.yml in ${repo}: ${(err as Error).message}`);
    }
    return { octokit, config: parseRepoConfig(raw, opts.defaultModel) };
  }

  function access(repo: string): Promise<RepoAccess> {
    const key = repo.toLowerCase();
    const hit = cache.get(key);
    if (hit && hit.until > now()) return hit.access;
    const loaded = load(repo);
    cache.set(key, { access: loaded, until: now() + ttl });
    loaded.catch(() => {
      if (cache.get(key)?.access === loaded) cache.delete(key);
    });
    return loaded;
  }

  /** The configured repositories, default first, each once, as first spelled (GitHub's names ignore case). */
  const configured = new Map<string, string>();
  for (const r of [...(defaultRepo ? [defaultRepo] : []), ...(opts.repos ?? [])])
    if (!configured.has(r.toLowerCase())) configured.set(r.toLowerCase(), r);

  function resolve(repo: string | null): string {
    const r = repo ?? defaultRepo;
    if (r === null) {
      throw new GastownError(
        'gastown_bad_input',
        'Say which repository: e.g. `/gt status owner/repo` (no default repository is configured).',
      );
    }
    // One spelling per repository, so another case opens the same mirror (and waits its turn on it).
    return configured.get(r.toLowerCase()) ?? r;
  }

  const permissions: PermissionChecker = async (login, repo) => {
    const { owner, name } = split(repo);
    return getPermission((await access(repo)).octokit, owner, name, login);
  };

  const issueFlow: IssueFlow = {
    async openGoalIssue(repo, goal, requestedBy) {
      const { owner, name } = split(repo);
      const { octokit, config } = await access(repo);
      const { data } = await octokit.rest.issues.create({
        owner,
        repo: name,
        title: firstLine(goal),
        body: `${goal}\n\n---\n_Asked from Slack by @${requestedBy}._\n${onBehalfOfMarker(requestedBy)}`,
        labels: [config.labels.mayor],
      });
      return { number: data.number, url: data.html_url, sourceKey: githubSourceKey(repo, data.number) };
    },

    async requestOnIssue(repo, issueNumber, command, requestedBy) {
      const { owner, name } = split(repo);
      const { octokit } = await access(repo);
      const { data } = await octokit.rest.issues.createComment({
        owner,
        repo: name,
        issue_number: issueNumber,
        body: `${command}\n\n_Asked from Slack by @${requestedBy}._\n${onBehalfOfMarker(requestedBy)}`,
      });
      return { url: data.html_url };
    },
  };

  return {
    defaultRepo,
    permissions,
    issueFlow,

    async repos() {
      return [...configured.values()];
    },

    async withRig<T>(repo: string | null, fn: (rig: Rig) => Promise<T>): Promise<T> {
      const target = resolve(repo);
      const { owner, name } = split(target);
      const { octokit, config } = await access(target);
      return opts.mirrors.withRepoLedger(
        {
          owner,
          repo: name,
          prefix: config.ledgerPrefix,
          actor: 'gastown[bot]',
          token: () => tokenOf(octokit),
          ...(opts.log ? { log: opts.log } : {}),
        },
        (session) => fn(session.rig),
      );
    },

    async close() {
      cache.clear();
    },
  };
}
