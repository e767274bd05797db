/**
 * The services the app's handlers call, built once per process from the environment.
 * Tests build their own `AppDeps` and pass them to `createGastownApp`.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ProbotOctokit } from 'probot';
import { loadEnvConfig } from '../config/env-config.js';
import { cachedProtectionCheck, type ApiGet, type BranchProtection } from '../forge/branch-protection.js';
import type { RepoConfig } from '../config/repo-config.js';
import { anthropicFromEnv } from '../model/anthropic.js';
import { VERSION } from '../version.js';
import { deaconTick, startDeaconTimer, type DeaconTimer, type DeaconVisitResult } from './deacon-tick.js';
import { mirrorHasActiveConvoy } from './mirror-has-active-convoy.js';
import { KnownRepositories, type KnownRepository } from './known-repositories.js';
import { LedgerMirrors } from './ledger-mirror.js';
import { townService, type TownService } from '../rig/town-service.js';
import { createMayor, type Mayor } from './mayor.js';

/** The repository a delivery is about, and who acts. */
export interface RepoScope {
  owner: string;
  repo: string;
  octokit: InstanceType<typeof ProbotOctokit>;
  config: RepoConfig;
  log: Logger;
  /** Login of the person acting, or the app. */
  actor: string;
}

/** The town operations the GitHub flows use (the same named operations every surface calls). */
export type GithubTown = Pick<
  TownService,
  | 'bead'
  | 'convoy'
  | 'convoyFor'
  | 'recordPlan'
  | 'recordPlanFailure'
  | 'replan'
  | 'linkBead'
  | 'markMaterialised'
  | 'markConvoy'
  | 'approve'
  | 'stop'
  | 'pendingDispatch'
  | 'markDispatched'
  | 'unmarkDispatched'
  | 'dispatchersOf'
  | 'confirmDispatched'
  | 'unconfirmedDispatches'
  | 'reslingUndispatched'
  | 'recordMerged'
  | 'recordRejected'
  | 'readyDependents'
  | 'markMirrored'
  | 'requestRevision'
  | 'budget'
  | 'estop'
>;

/** One repository's services for one delivery. */
export interface RepoServices {
  town: GithubTown;
  mayor: Mayor;
  /**
   * Pushes the ledger to the repository now: a plan reaches it before anything is written
   * to GitHub, and a workflow run dispatched next must find its bead hooked and linked.
   */
  publish(): Promise<void>;
  clock(): Date;
  /** This app replica's id (names its dispatch marks); one name when absent. */
  replica?: string;
  /**
   * How long a dispatch mark without a recorded call waits before GitHub is asked whether
   * its run exists (GASTOWN_DISPATCH_GRACE_MS; default 60 s).
   */
  dispatchGraceMs?: number;
}

export interface AppDeps {
  /**
   * Runs `fn` with the repository's services: one unit of work per repository at a time,
   * with the repository's ledger synced before and after. `waitForLease: false` fails at once
   * with `gastown_locked` when another replica holds the repository's lease (default: wait).
   */
  withRepo<T>(scope: RepoScope, fn: (services: RepoServices) => Promise<T>, visit?: { waitForLease?: boolean }): Promise<T>;
  /** Default model for repos whose config names none (GASTOWN_MODEL). */
  defaultModel: string;
  version: string;
  /** Stops long-lived git processes (tests and shutdown). */
  close?(): Promise<void>;
  /** This app's id: objects GitHub says this app made may act for the person they name. */
  appId?: number | null;
  /** The ledger mirrors the webhook handlers use; the Slack bot shares them. */
  mirrors?: Pick<LedgerMirrors, 'withRepoLedger' | 'point'>;
  /** SLACK_* settings; Slack stays off without them. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Checks (and briefly remembers) whether a default branch is protected, for the status comment. */
  branchProtection?: ProtectionCheck;
  /** The repositories deliveries came for, with their installation (what the Deacon's timer visits). */
  repositories?: KnownRepositories;
  /**
   * Starts the Deacon's timer (GASTOWN_DEACON_EVERY_MS) with the pass it runs per repository;
   * the app calls it once it has Probot's `auth`. Idempotent; `close` stops the timer.
   */
  startDeacon?(visit: (entry: KnownRepository) => Promise<DeaconVisitResult>, log: Logger): void;
}

export type ProtectionCheck = (get: ApiGet, owner: string, repo: string, branch: string) => Promise<BranchProtection>;

/** The installation token of a per-delivery Octokit (Probot caches it per installation). */
export async function installationToken(octokit: RepoScope['octokit']): Promise<string> {
  const auth = (await octokit.auth({ type: 'installation' })) as { token?: unknown };
  if (typeof auth.token !== 'string') throw new Error('the installation has no token');
  return auth.token;
}

/**
 * The real services: a ledger mirror per repository under GASTOWN_DATA_DIR synced over
 * GASTOWN_GIT_URL with the installation token, and the Mayor over the Anthropic model when
 * ANTHROPIC_API_KEY is set (the checklist planner otherwise).
 */
export function createAppDeps(env: Record<string, string | undefined>, options: { now?: () => Date } = {}): AppDeps {
  const config = loadEnvConfig(env);
  const model = anthropicFromEnv(env);
  const clock = options.now ?? (() => new Date());
  const repositories = new KnownRepositories(join(config.dataDir, KNOWN_REPOSITORIES_FILE));
  let deacon: DeaconTimer | null = null;
  const mirrors = new LedgerMirrors({
    dataDir: config.dataDir,
    gitUrlTemplate: config.gitUrlTemplate,
    now: clock,
    leaseTtlMs: config.leaseTtlMs,
    leaseLingerMs: config.leaseLingerMs,
    syncFullEveryMs: config.syncFullEveryMs,
    inProcessHttp: config.gitHttp === 'in-process',
  });
  return {
    defaultModel: config.model,
    version: VERSION,
    mirrors,
    env,
    branchProtection: cachedProtectionCheck(),
    appId: config.appId && /^\d+$/.test(config.appId) ? Number(config.appId) : null,
    repositories,
    startDeacon: (visit, log) => {
      if (deacon || config.deaconEveryMs === 0) return;
      const tick = () =>
        deaconTick({
          repositories: () => repositories.list(),
          hasActiveConvoy: (entry) => mirrorHasActiveConvoy(mirrors.pathFor(entry.owner, entry.repo), entry.prefix),
          visit,
          log,
        });
      deacon = startDeaconTimer(config.deaconEveryMs, tick, log);
    },
    withRepo: (scope, fn, visit) =>
      mirrors.withRepoLedger(
        {
          owner: scope.owner,
          repo: scope.repo,
          prefix: scope.config.ledgerPrefix,
          actor: scope.actor,
          token: () => installationToken(scope.octokit),
          log: scope.log,
        },
        (session) =>
          fn({
            town: townService(session.rig.withSettings({ maxRevisions: scope.config.maxRevisions })),
            mayor: createMayor({ model, log: scope.log }),
            publish: () => session.sync(),
            clock,
            replica: session.replica,
            dispatchGraceMs: config.dispatchGraceMs,
          }),
        visit,
      ),
    close: async () => {
      // The timer first: a tick in progress finishes its pass before the mirrors close.
      await deacon?.stop();
      await mirrors.close();
    },
  };
}

/** Under GASTOWN_DATA_DIR beside the mirrors; a leading dot, so no owner's directory can take the name. */
export const KNOWN_REPOSITORIES_FILE = '.known-repositories.json';
