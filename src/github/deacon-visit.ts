/**
 * One repository's pass for the Deacon's timer (github/deacon-tick.ts): the dispatch pass a
 * webhook runs (`dispatchBeads`: the Deacon's stall pass, lost dispatches, ready beads), with
 * an installation client from Probot and the repository's config (remembered for a while by
 * `AppMemory`, else read), under the repository's lease taken without waiting: held by
 * another replica, the pass is that replica's to run and this tick skips it.
 */
import type { Logger } from 'pino';
import type { ProbotOctokit } from 'probot';
import { parseRepoConfig, type RepoConfig } from '../config/repo-config.js';
import { GastownError, isGastownError } from '../errors.js';
import { GitHubForge } from '../forge/github-forge.js';
import type { AppDeps } from './app-deps.js';
import type { AppMemory } from './app-memory.js';
import type { DeaconVisitResult } from './deacon-tick.js';
import { dispatchBeads } from './dispatch-beads.js';
import type { KnownRepositories, KnownRepository } from './known-repositories.js';

type Octokit = InstanceType<typeof ProbotOctokit>;

export interface DeaconVisitOptions {
  deps: Pick<AppDeps, 'withRepo' | 'defaultModel'>;
  /** Probot's `app.auth(installationId)`: the installation's client (Probot caches its token). */
  auth(installationId: number): Promise<Octokit>;
  memory?: AppMemory;
  /** Updated when the config read names another ledger prefix. */
  repositories?: KnownRepositories;
  log: Logger;
}

export function deaconVisit(opts: DeaconVisitOptions): (entry: KnownRepository) => Promise<DeaconVisitResult> {
  return async (entry) => {
    const { owner, repo, installationId } = entry;
    const log = opts.log.child({ repo: `${owner}/${repo}`, installation: installationId });
    const octokit = await opts.auth(installationId);
    const config = await repoConfig(opts, octokit, entry);
    if (config.ledgerPrefix !== entry.prefix) opts.repositories?.record({ ...entry, prefix: config.ledgerPrefix }, log);
    const forge = new GitHubForge({ octokit, owner, repo, log, comments: opts.memory?.commentBodies(installationId) });
    const scope = { owner, repo, octokit, config, log, actor: 'gastown[bot]' };
    try {
      const dispatched = await opts.deps.withRepo(
        scope,
        (services) => dispatchBeads({ forge, config, defaultBranch: entry.defaultBranch, log }, services),
        { waitForLease: false },
      );
      if (dispatched.length) log.info({ dispatched }, 'Deacon tick dispatched polecat runs');
      return 'done';
    } catch (err) {
      if (isGastownError(err, 'gastown_locked')) return 'busy';
      throw err;
    }
  };
}

/** The repository's `.github/gastown.yml`, as the deliveries read it (and remember it for a while). */
async function repoConfig(opts: DeaconVisitOptions, octokit: Octokit, entry: KnownRepository): Promise<RepoConfig> {
  const { owner, repo, installationId } = entry;
  const remembered = opts.memory?.config(installationId, owner, repo);
  if (remembered) return remembered;
  let raw: unknown;
  try {
    raw = (await octokit.config.get({ owner, repo, path: '.github/gastown.yml' })).config;
  } catch (err) {
    if ((err as { status?: number }).status !== undefined) throw err;
    throw new GastownError('gastown_config', `Invalid .github/gastown.yml: ${(err as Error).message.split('\n')[0]}`);
  }
  const config = parseRepoConfig(raw, opts.deps.defaultModel);
  opts.memory?.rememberConfig(installationId, owner, repo, config);
  return config;
}
