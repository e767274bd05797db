import { GastownError } from '../errors.js';
import type { Ledger } from './ledger.js';
import { redact, runGit } from './run-git.js';

export interface PushOutcome {
  ok: number;
  /** Refs the remote turned down because it moved (non-fast-forward, stale lease): fetch, merge, retry. */
  rejected: string[];
}

/**
 * Pushes refs without force (`leased` ones with `--force-with-lease`, a compare-and-swap on
 * the remote). A ref the remote moved meanwhile comes back in `rejected`, for the caller to
 * fetch, merge and retry. Any other refusal (a `pre-receive` hook, a protected ref, a full
 * disk) would be refused again on retry: it throws at once, with the remote's own words.
 */
export async function pushLedger(
  ledger: Ledger,
  remote: string,
  refs: string[],
  leased: { ref: string; expect: string }[],
): Promise<PushOutcome> {
  let ok = 0;
  const rejected: string[] = [];
  // Explicit refspecs keep the push to what changed; chunks keep command lines short.
  const chunks: string[][] = [];
  for (let i = 0; i < refs.length; i += 2000) chunks.push(refs.slice(i, i + 2000).map((r) => `${r}:${r}`));
  const leaseArgs = leased.map((x) => `--force-with-lease=${x.ref}:${x.expect}`);
  if (leased.length) chunks.push([...leaseArgs, ...leased.map((x) => `+${x.ref}:${x.ref}`)]);
  for (const specs of chunks) {
    const args = specs[0]?.startsWith('--force-with-lease')
      ? [
          'push',
          '--porcelain',
          '--no-verify',
          ...specs.filter((s) => s.startsWith('--')),
          remote,
          ...specs.filter((s) => !s.startsWith('--')),
        ]
      : ['push', '--porcelain', '--no-verify', remote, ...specs];
    const { stdout, stderr, code } = await runGit(args, { cwd: ledger.repoDir, okCodes: [1] });
    let sawStatus = false;
    const refused: { ref: string; why: string }[] = [];
    for (const line of stdout.toString('utf8').split('\n')) {
      // `<flag>\t<src>:<dst>\t<summary> (<reason>)`, e.g. `!\t...\t[remote rejected] (pre-receive hook declined)`.
      const m = /^(.)\t([^\t]+)\t(.*)$/.exec(line);
      if (!m) continue;
      sawStatus = true;
      const dst = m[2]!.split(':')[1] ?? m[2]!;
      const verdict = pushVerdict(m[1]!, m[3]!);
      if (verdict === 'ok') ok++;
      else if (verdict === 'raced') rejected.push(dst);
      else refused.push({ ref: dst, why: m[3]! });
    }
    if (refused.length) throw refusal(remote, refused, stderr);
    if (code !== 0 && !sawStatus)
      throw new GastownError('gastown_sync', `cannot push the ledger to ${redact(remote)}: ${redact(stderr.trim().split('\n')[0] ?? '')}`);
  }
  return { ok, rejected };
}

/**
 * One ref's line of `git push --porcelain`: pushed, lost a race (the remote's ref moved
 * since the fetch: `[rejected]` non-fast-forward or stale lease, or `[remote rejected]`
 * because the ref changed or was locked by another push between the remote's check and its
 * update, which a busy remote such as GitHub says as "failed to update ref" or "cannot lock
 * ref"), or refused for good (a hook, a protected ref).
 */
export function pushVerdict(flag: string, summary: string): 'ok' | 'raced' | 'refused' {
  if (flag !== '!') return 'ok';
  if (summary.startsWith('[rejected]')) return 'raced';
  if (/^\[remote rejected\] \((?:failed to update ref|cannot lock ref|incorrect old value|failed to lock)/.test(summary)) return 'raced';
  return 'refused';
}

/** The remote said no for a reason of its own: say which refs, why, and what its hooks printed. */
function refusal(remote: string, refused: { ref: string; why: string }[], stderr: string): GastownError {
  const said = stderr
    .split('\n')
    .filter((l) => l.startsWith('remote:'))
    .map((l) => l.slice('remote:'.length).trim())
    .filter(Boolean);
  const why = [...new Set(refused.map((r) => r.why))].join('; ');
  const text = said.length ? `${why}: ${said.join(' / ')}` : why;
  return new GastownError(
    'gastown_sync',
    redact(`${redact(remote)} refused the ledger push of ${refused.length} ref${refused.length === 1 ? '' : 's'}: ${text}`).slice(0, 2000),
    {
      refs: refused.slice(0, 10).map((r) => r.ref),
    },
  );
}
