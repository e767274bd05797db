import type { webApi } from '@slack/bolt';
import { GastownError } from '../errors.js';
import type { PermissionChecker } from '../town/permissions.js';

/**
 * Who may do what from Slack. A Slack user acts as a GitHub login, and that login's
 * permission on the target repository decides (DESIGN: only people with write access can
 * start work, approve, stop or sling).
 */

export interface IdentityResolver {
  /** The GitHub login a Slack user acts as, or null when the user is not linked. */
  loginFor(slackUserId: string): Promise<string | null>;
  /** The Slack user a GitHub login is reached at (for DMs), or null. */
  slackUserFor(login: string): Promise<string | null>;
}

export interface IdentityResolverOptions {
  /** Needs `users:read` and `users:read.email`. */
  client: Pick<webApi.WebClient, 'users'>;
  /** Slack user id → GitHub login; checked first. */
  userMap?: Readonly<Record<string, string>>;
  /** Verified Slack email (any case) → GitHub login. */
  emailMap?: Readonly<Record<string, string>>;
  /** How long a looked-up mapping is trusted; a changed email takes effect after this. */
  cacheTtlMs?: number;
  now?: () => number;
}

export function createIdentityResolver(opts: IdentityResolverOptions): IdentityResolver {
  const userMap = opts.userMap ?? {};
  const emailMap = new Map(Object.entries(opts.emailMap ?? {}).map(([email, login]) => [email.toLowerCase(), login]));
  const ttl = opts.cacheTtlMs ?? 10 * 60_000;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { value: string | null; until: number }>();

  async function cached(key: string, load: () => Promise<string | null>): Promise<string | null> {
    const hit = cache.get(key);
    if (hit && hit.until > now()) return hit.value;
    const value = await load();
    // Only positive answers are cached, so a newly added mapping is seen at once.
    if (value !== null) cache.set(key, { value, until: now() + ttl });
    return value;
  }

  return {
    async loginFor(slackUserId) {
      const mapped = userMap[slackUserId];
      if (mapped !== undefined) return mapped;
      if (emailMap.size === 0) return null;
      return cached(`u:${slackUserId}`, async () => {
        const res = await opts.client.users.info({ user: slackUserId });
        const user = res.user;
        // An unconfirmed email could be typed by anyone: it proves nothing.
        if (!user || user.deleted || user.is_bot || user.is_email_confirmed !== true) return null;
        const email = user.profile?.email?.toLowerCase();
        return email ? (emailMap.get(email) ?? null) : null;
      });
    },

    async slackUserFor(login) {
      const wanted = login.toLowerCase();
      const byMap = Object.entries(userMap).find(([, l]) => l.toLowerCase() === wanted);
      if (byMap) return byMap[0];
      const email = [...emailMap].find(([, l]) => l.toLowerCase() === wanted)?.[0];
      if (email === undefined) return null;
      return cached(`l:${wanted}`, async () => {
        try {
          const res = await opts.client.users.lookupByEmail({ email });
          return res.user?.id ?? null;
        } catch (err) {
          if ((err as { data?: { error?: string } }).data?.error === 'users_not_found') return null;
          throw err;
        }
      });
    },
  };
}

/** The GitHub login for a Slack user, or a `gastown_forbidden` error that says how to get linked. */
export async function requireLogin(identity: IdentityResolver, slackUserId: string): Promise<string> {
  const login = await identity.loginFor(slackUserId);
  if (login !== null) return login;
  throw new GastownError(
    'gastown_forbidden',
    `Your Slack account (<@${slackUserId}>) is not linked to a GitHub login. Ask an admin to map it ` +
      '(SLACK_USER_MAP), or confirm your Slack email and have it mapped (SLACK_EMAIL_MAP).',
    { slackUserId },
  );
}
