/**
 * The Actions OIDC token service of the double, as GitHub Enterprise Server serves it under
 * `<server>/_services/token` (so an app with GHE_HOST pointing here finds its issuer and JWKS
 * without other settings). A run of a workflow with `permissions: id-token: write` gets
 * ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN; asking there with `audience=` returns a JWT with the
 * claims GitHub puts in one (repository, repository_id, job_workflow_ref, run_id, ...), signed
 * with a key of this double's JWKS.
 */
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export const OIDC_PATH = '/_services/token';

export interface OidcRunClaims {
  owner: string;
  repo: string;
  repositoryId: number;
  workflowPath: string;
  ref: string;
  runId: number;
  actor: string;
}

export class ActionsOidc {
  readonly #key: CryptoKey;
  readonly #jwk: JWK;
  readonly issuer: string;

  private constructor(issuer: string, key: CryptoKey, jwk: JWK) {
    this.issuer = issuer;
    this.#key = key;
    this.#jwk = jwk;
  }

  static async create(serverUrl: string): Promise<ActionsOidc> {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    return new ActionsOidc(`${serverUrl}${OIDC_PATH}`, privateKey, {
      ...(await exportJWK(publicKey)),
      kid: 'double-1',
      alg: 'RS256',
      use: 'sig',
    });
  }

  jwks(): { keys: JWK[] } {
    return { keys: [this.#jwk] };
  }

  /** The token a job of this run gets for `audience` (five minutes, as GitHub's). */
  sign(run: OidcRunClaims, audience: string): Promise<string> {
    const repository = `${run.owner}/${run.repo}`;
    const workflowRef = `${repository}/${run.workflowPath}@${run.ref}`;
    return new SignJWT({
      repository,
      repository_id: String(run.repositoryId),
      repository_owner: run.owner,
      ref: run.ref,
      event_name: 'workflow_dispatch',
      workflow_ref: workflowRef,
      job_workflow_ref: workflowRef,
      run_id: String(run.runId),
      run_attempt: '1',
      actor: run.actor,
      runner_environment: 'github-hosted',
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'double-1', typ: 'JWT' })
      .setIssuer(this.issuer)
      .setAudience(audience)
      .setSubject(`repo:${repository}:ref:${run.ref}`)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(this.#key);
  }
}
