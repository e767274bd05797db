/**
 * The token exchange (`POST /gastown/token`): a polecat job's Actions OIDC token in, an
 * installation token out, scoped to that job's repository with contents and pull requests
 * write only, so its pushes and pull request start the repository's CI without the job ever
 * holding the app's key. In order, each step refusing with a reason:
 *   1. the JWT verifies: issuer, audience, signature (issuer's JWKS), expiry (401 otherwise);
 *   2. its repository is one this app is installed on, and still the repository of that id;
 *   3. `job_workflow_ref` is the polecat workflow (`polecatWorkflow` of .github/gastown.yml)
 *      at the default branch: a workflow edited on another branch gets nothing;
 *   4. its run is a workflow_dispatch run of that workflow, started by this app, not over,
 *      titled `gastown-polecat <bead>`;
 *   5. that bead waits for this run in the ledger (`rig/dispatch.ts` `whyRunNotLive`);
 *   6. then, and only then, the token is minted.
 */
import type { Logger } from 'pino';
import type { ProbotOctokit } from 'probot';
import type { RepoConfig } from '../../config/repo-config.js';
import { isGastownError } from '../../errors.js';
import { loadRepoConfigFromApi } from '../../forge/repo-config-from-api.js';
import type { LedgerMirrors } from '../ledger-mirror.js';
import { beadOfRunTitle } from '../handlers/workflow-run-completed.js';
import { whyRunNotLive } from '../../rig/dispatch.js';
import { TokenRefused, type ActionsClaims } from './verify-actions-token.js';

type Octokit = InstanceType<typeof ProbotOctokit>;

/** Exactly what a polecat gets: its branch pushes and its pull request. */
export const POLECAT_TOKEN_PERMISSIONS = { contents: 'write', pull_requests: 'write' } as const;

export interface TokenExchangeDeps {
  verify(jwt: string): Promise<ActionsClaims>;
  /** Octokit authenticated as the app (its JWT). */
  appOctokit(): Promise<Octokit>;
  installationOctokit(installationId: number): Promise<Octokit>;
  mirrors: Pick<LedgerMirrors, 'withRepoLedger' | 'point'>;
  defaultModel?: string;
  log: Logger;
}

export interface ExchangedToken {
  token: string;
  expires_at: string;
  repository: string;
  bead: string;
  permissions: Record<string, string>;
}

/** What the exchange learnt before it refused or minted, for the one log line. */
export interface ExchangeTrace {
  repository?: string;
  run?: string;
  bead?: string;
}

export function createTokenExchange(deps: TokenExchangeDeps): (jwt: string, trace?: ExchangeTrace) => Promise<ExchangedToken> {
  let slug: Promise<string> | null = null;
  const appSlug = (octokit: Octokit): Promise<string> => {
    slug ??= octokit.rest.apps.getAuthenticated().then(
      ({ data }) => {
        if (!data?.slug) throw new Error('GET /app has no slug');
        return data.slug;
      },
      (err: unknown) => {
        slug = null;
        throw err;
      },
    );
    return slug;
  };

  return async (jwt, trace = {}) => {
    // Step 5 must see the ledger as it was when this request came (its run's dispatch was
    // pushed before the run existed): a sync begun since then will do, so the exchanges of a
    // wave's jobs, which come together, share one.
    const arrived = deps.mirrors.point();
    // 1. The token itself.
    const claims = await deps.verify(jwt);
    const [owner, repo] = claims.repository.split('/') as [string, string];
    trace.repository = claims.repository;
    trace.run = claims.run_id;

    // 2. An installed repository, the one the token names by id.
    const app = await deps.appOctokit();
    const installation = await github('find the installation', () => app.rest.apps.getRepoInstallation({ owner, repo }), {
      404: `the app is not installed on ${claims.repository}`,
    });
    const octokit = await deps.installationOctokit(installation.data.id);
    const repository = await github('read the repository', () => octokit.rest.repos.get({ owner, repo }), {
      404: `the app cannot see ${claims.repository}`,
    });
    if (String(repository.data.id) !== claims.repository_id)
      throw new TokenRefused(403, `${claims.repository} is not the repository the token was issued for (id ${claims.repository_id})`);
    const defaultBranch = repository.data.default_branch;

    // 3. The polecat workflow, as the default branch has it.
    let config: RepoConfig;
    try {
      config = await loadRepoConfigFromApi(octokit, owner, repo, { defaultModel: deps.defaultModel });
    } catch (err) {
      if (isGastownError(err, 'gastown_config')) throw new TokenRefused(403, `${claims.repository} has an invalid .github/gastown.yml`);
      throw new TokenRefused(502, 'could not read .github/gastown.yml from GitHub');
    }
    if (config.polecatWorkflow === null)
      throw new TokenRefused(403, `${claims.repository} runs no polecat workflow (polecatWorkflow: null)`);
    const workflowPath = `.github/workflows/${config.polecatWorkflow}`;
    const expected = `${claims.repository}/${workflowPath}@refs/heads/${defaultBranch}`;
    if (claims.job_workflow_ref !== expected)
      throw new TokenRefused(
        403,
        `the token is for the workflow ${claims.job_workflow_ref}, not the polecat workflow on the default branch (${expected})`,
      );

    // 4. A run this app dispatched and that is still going.
    const run = await github(
      'read the workflow run',
      () => octokit.rest.actions.getWorkflowRun({ owner, repo, run_id: Number(claims.run_id) }),
      {
        404: `there is no workflow run ${claims.run_id} in ${claims.repository}`,
      },
    );
    const bead = beadOfRunTitle(run.data.display_title);
    if (bead) trace.bead = bead;
    const appLogin = `${await github('read the app', () => appSlug(app), {})}[bot]`;
    if (run.data.event !== 'workflow_dispatch' || run.data.actor?.login !== appLogin || bead === null)
      throw new TokenRefused(403, `run ${claims.run_id} was not dispatched by the app for a bead`);
    if (run.data.path.replace(/@.*$/, '') !== workflowPath)
      throw new TokenRefused(403, `run ${claims.run_id} is not a run of ${workflowPath}`);
    if (run.data.status === 'completed') throw new TokenRefused(403, `run ${claims.run_id} is over`);

    // 5. Its bead waits for it in the ledger.
    const runOfBead = { id: run.data.id, createdAt: run.data.created_at };
    const whyNot = await github(
      'read the ledger',
      () =>
        deps.mirrors.withRepoLedger(
          {
            owner,
            repo,
            prefix: config.ledgerPrefix,
            actor: appLogin,
            token: async () => ((await octokit.auth({ type: 'installation' })) as { token: string }).token,
            log: deps.log,
          },
          (session) => whyRunNotLive(session.rig, bead, runOfBead),
          // A read: no outside write to keep apart from another replica's, so no lease.
          { lease: false, since: arrived },
        ),
      {},
    );
    if (whyNot !== null) throw new TokenRefused(403, whyNot);

    // 6. The scoped token.
    const minted = await github(
      'create the installation token',
      () =>
        app.rest.apps.createInstallationAccessToken({
          installation_id: installation.data.id,
          repository_ids: [repository.data.id],
          permissions: { ...POLECAT_TOKEN_PERMISSIONS },
        }),
      {},
    );
    return {
      token: minted.data.token,
      expires_at: minted.data.expires_at,
      repository: claims.repository,
      bead,
      permissions: (minted.data.permissions ?? { ...POLECAT_TOKEN_PERMISSIONS }) as Record<string, string>,
    };
  };
}

/** A GitHub call whose refusal becomes a `TokenRefused`: the given statuses with their reasons, anything else 502. */
async function github<T>(what: string, call: () => Promise<T>, refusals: Record<number, string>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof TokenRefused) throw err;
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number' && refusals[status]) throw new TokenRefused(403, refusals[status]!);
    throw new TokenRefused(502, `GitHub did not let the app ${what}${typeof status === 'number' ? ` (HTTP ${status})` : ''}`);
  }
}
