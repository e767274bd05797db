/**
 * Verifies a GitHub Actions OIDC token (a JWT) the way the token exchange relies on it:
 * signed (RS256) by a key of the configured issuer's JWKS (fetched over HTTP from the
 * configured URL, never from anything the token names), issued by that issuer, for our
 * audience, not expired, and carrying the claims the exchange checks. Any failure is a
 * `TokenRefused` with status 401 and a reason that names what failed and nothing of the token.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { z } from 'zod';

export class TokenRefused extends Error {
  /** 401: the token is not good; 403: it is, but it gets nothing here; 502/503: we could not check. */
  constructor(
    readonly status: 401 | 403 | 502 | 503,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** The claims of an Actions OIDC token the exchange reads (others are ignored). */
const ClaimsSchema = z.object({
  repository: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/),
  repository_id: z.string().regex(/^\d+$/),
  job_workflow_ref: z.string().min(1),
  run_id: z.string().regex(/^\d+$/),
  event_name: z.string().optional(),
});

export type ActionsClaims = z.infer<typeof ClaimsSchema>;

export interface OidcSettings {
  issuer: string;
  jwksUrl: string;
  audience: string;
}

/** Seconds of clock difference tolerated on exp/iat/nbf. */
const CLOCK_TOLERANCE_S = 30;

export function actionsTokenVerifier(settings: OidcSettings): (jwt: string) => Promise<ActionsClaims> {
  const keys = createRemoteJWKSet(new URL(settings.jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
  return async (jwt) => {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(jwt, keys, {
        issuer: settings.issuer,
        audience: settings.audience,
        algorithms: ['RS256'],
        requiredClaims: ['exp', 'iat', 'repository', 'repository_id', 'job_workflow_ref', 'run_id'],
        clockTolerance: CLOCK_TOLERANCE_S,
      }));
    } catch (err) {
      throw refusalOf(err);
    }
    const claims = ClaimsSchema.safeParse(payload);
    if (!claims.success)
      throw new TokenRefused(
        401,
        `the token's claims are not those of an Actions job (${claims.error.issues.map((i) => i.path.join('.')).join(', ')})`,
      );
    return claims.data;
  };
}

function refusalOf(err: unknown): TokenRefused {
  const e = err as { code?: string; claim?: string; reason?: string; message?: string };
  switch (e.code) {
    case 'ERR_JWT_EXPIRED':
      return new TokenRefused(401, 'the token has expired');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (e.reason === 'missing') return new TokenRefused(401, `the token has no "${e.claim}" claim`);
      if (e.claim === 'iss') return new TokenRefused(401, 'the token is from another issuer');
      if (e.claim === 'aud') return new TokenRefused(401, 'the token is for another audience');
      if (e.claim === 'nbf' || e.claim === 'iat') return new TokenRefused(401, 'the token is not valid yet');
      return new TokenRefused(401, `the token's "${e.claim}" claim is not acceptable`);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return new TokenRefused(401, "the token's signature does not verify with the issuer's keys");
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return new TokenRefused(401, 'the token is not signed with RS256');
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return new TokenRefused(401, 'the token is not a well-formed JWT');
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
      return new TokenRefused(503, "could not read the issuer's keys");
    default:
      // A failed fetch of the JWKS (network) or anything unforeseen: not the caller's fault.
      return new TokenRefused(503, "could not read the issuer's keys");
  }
}
