/**
 * Whether a repository's default branch is protected on GitHub's side, so that a polecat
 * token with contents: write could not push to it even if everything else failed. Two reads
 * that need no permission beyond what the app and a workflow token have:
 *   - `GET /repos/{o}/{r}/branches/{b}`: `protected` is true under a branch protection rule
 *     (contents: read; `GET .../protection` would need administration: read);
 *   - `GET /repos/{o}/{r}/rules/branches/{b}`: the active ruleset rules that apply to it
 *     (metadata: read); only rules that stop a plain push count (a pull request required,
 *     updates restricted, status checks, a merge queue or deployments required).
 * A read GitHub refuses (403, 404: no permission) or that fails makes the answer `unknown`,
 * never `unprotected`. Recommended, checked and reported; not enforced.
 */

export type ProtectionState = 'protected' | 'unprotected' | 'unknown';

export interface BranchProtection {
  branch: string;
  state: ProtectionState;
  /** What protects it (`a branch protection rule`, `ruleset rules: pull_request`), or why unknown. */
  detail: string;
  /** For `unknown`: GitHub refused a read (a permission to grant), or a read failed (try later). */
  cause?: 'refused' | 'failed';
}

/** A GET on GitHub's REST API that answers any HTTP status (and throws only when it cannot ask). */
export type ApiGet = (path: string) => Promise<{ status: number; data: unknown }>;

/** Ruleset rules that refuse a direct push of new commits to the branch. */
const PUSH_GATES = new Set(['pull_request', 'update', 'required_status_checks', 'merge_queue', 'required_deployments']);

export async function checkBranchProtection(get: ApiGet, owner: string, repo: string, branch: string): Promise<BranchProtection> {
  const base = `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`;
  const [classic, rules] = await Promise.all([
    read(get, `${base}/branches/${encodeURIComponent(branch)}`),
    read(get, `${base}/rules/branches/${encodeURIComponent(branch)}?per_page=100`),
  ]);
  const isProtected = classic.status === 200 ? (classic.data as { protected?: unknown } | null)?.protected === true : null;
  const types =
    rules.status === 200 && Array.isArray(rules.data)
      ? [...new Set((rules.data as { type?: unknown }[]).map((r) => String(r.type)))]
      : null;
  const gates = types?.filter((t) => PUSH_GATES.has(t)) ?? [];

  const by: string[] = [];
  if (isProtected) by.push('a branch protection rule');
  if (gates.length) by.push(`ruleset rules: ${gates.join(', ')}`);
  if (by.length) return { branch, state: 'protected', detail: by.join(' and ') };
  if (isProtected === false && types !== null) {
    const others = types.length ? ` (ruleset rules ${types.join(', ')} apply, but none stops a push)` : '';
    return { branch, state: 'unprotected', detail: `no branch protection rule or ruleset requires a pull request for ${branch}${others}` };
  }
  const failed = [classic, rules].find((r) => r.status !== 200)!;
  const refused = failed.status === 403 || failed.status === 404 || failed.status === 401;
  return {
    branch,
    state: 'unknown',
    cause: refused ? 'refused' : 'failed',
    detail:
      failed.status === 0
        ? `could not ask GitHub (${failed.error})`
        : `GitHub answered ${failed.status} to ${failed.path.replace(/\?.*$/, '')}`,
  };
}

async function read(get: ApiGet, path: string): Promise<{ status: number; data: unknown; path: string; error?: string }> {
  try {
    return { ...(await get(path)), path };
  } catch (err) {
    return { status: 0, data: null, path, error: (err as Error).message.split('\n')[0]!.slice(0, 200) };
  }
}

/** An `ApiGet` over an Octokit (the app's per-delivery client, or a workflow token's). */
export function octokitGet(octokit: { request(route: string): Promise<{ status: number; data: unknown }> }): ApiGet {
  return async (path) => {
    try {
      const res = await octokit.request(`GET ${path}`);
      return { status: res.status, data: res.data };
    } catch (err) {
      const status = (err as { status?: unknown }).status;
      if (typeof status === 'number') return { status, data: null };
      throw err;
    }
  };
}

/** An `ApiGet` over fetch, for the CLI (`gt doctor --github`), which does not load Octokit. */
export function fetchGet(apiUrl: string, token: string, doFetch: typeof fetch = fetch): ApiGet {
  return async (path) => {
    const res = await doFetch(`${apiUrl.replace(/\/+$/, '')}${path}`, {
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
        'user-agent': 'gastown-doctor',
      },
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let data: unknown = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: the status says enough
    }
    return { status: res.status, data };
  };
}

/** A check per repository and branch remembered for `ttlMs`: the status comment is rendered on every event. */
export function cachedProtectionCheck(ttlMs = 5 * 60_000, now: () => number = Date.now) {
  const known = new Map<string, { at: number; value: Promise<BranchProtection> }>();
  return (get: ApiGet, owner: string, repo: string, branch: string): Promise<BranchProtection> => {
    const key = `${owner}/${repo}#${branch}`.toLowerCase();
    const hit = known.get(key);
    if (hit && now() - hit.at < ttlMs) return hit.value;
    const value = checkBranchProtection(get, owner, repo, branch);
    known.set(key, { at: now(), value });
    // A failed read is not remembered: the next event asks again.
    void value.then((p) => p.cause === 'failed' && known.get(key)?.value === value && known.delete(key));
    return value;
  };
}
