import { GastownError } from '../errors.js';
import type { Ledger } from './ledger.js';
import { redact, runGit } from './run-git.js';
import { SIDE_GIT, sideRepo } from './side-repo.js';
import type { SummaryUpdate } from './sync-summary.js';
import { pushOverHttp } from './push-over-http.js';
import { SmartHttp, type RefCommand } from './smart-http.js';

export interface PushOverHttpOptions {
  http: SmartHttp;
  /** The remote's value of each plain ref as the sync last read it (null or absent: the remote has none). */
  remoteValues: Map<string, string | null>;
}

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
  summary?: SummaryUpdate,
  overHttp?: PushOverHttpOptions,
): Promise<PushOutcome> {
  let ok = 0;
  const rejected: string[] = [];
  if (refs.length === 0 && leased.length === 0) return { ok, rejected };
  // From a side repository holding exactly what to push (`refs/push/...` plainly,
  // `refs/lease/...` with a lease each), so one wildcard refspec per kind of push does, and
  // the cost is what is pushed, not the refs here (see side-repo.ts).
  // The refs pushed, read one by one: a push of a few refs must not list 10,000.
  const values = await ledger.tips([...refs, ...leased.map((x) => x.ref)]);
  const local = new Map([...values].filter((e): e is [string, string] => e[1] !== null));
  const sideRefs = new Map<string, string>();
  for (const ref of refs) {
    const oid = local.get(ref);
    if (oid) sideRefs.set(`refs/push/${ref.slice('refs/'.length)}`, oid);
  }
  for (const { ref } of leased) {
    const oid = local.get(ref);
    if (oid) sideRefs.set(`refs/lease/${ref.slice('refs/'.length)}`, oid);
  }
  if (sideRefs.size === 0) return { ok, rejected };
  if (overHttp && SmartHttp.speaks(remote)) {
    const done = await pushInProcess(ledger, remote, refs, leased, local, summary, overHttp);
    if (done) return done;
  }
  const plain = sideRefs.size - leased.filter((x) => local.has(x.ref)).length;
  // The writer's summary moves with the refs or not at all (sync-summary.ts): one atomic push.
  if (summary) sideRefs.set(`refs/lease/${summary.ref.slice('refs/'.length)}`, summary.oid);
  const side = sideRepo(ledger, sideRefs);
  try {
    const leaseArgs = leased.filter((x) => local.has(x.ref)).map((x) => `--force-with-lease=${x.ref}:${x.expect}`);
    if (summary) leaseArgs.push(`--force-with-lease=${summary.ref}:${summary.expect ?? ''}`);
    const specs = [
      ...(plain > 0 ? ['refs/push/*:refs/*'] : []),
      // No `+`: a forcing refspec overrides the lease (git 2.39), and the lease is the point.
      ...(leaseArgs.length ? ['refs/lease/*:refs/*'] : []),
    ];
    const atomic = summary ? ['--atomic'] : [];
    const { stdout, stderr, code } = await runGit(
      [...SIDE_GIT, 'push', '--porcelain', '--no-verify', ...atomic, ...leaseArgs, remote, ...specs],
      {
        cwd: ledger.repoDir,
        env: side.env,
        okCodes: [1],
      },
    );
    let sawStatus = false;
    const refused: { ref: string; why: string }[] = [];
    for (const line of stdout.toString('utf8').split('\n')) {
      // `<flag>\t<src>:<dst>\t<summary> (<reason>)`, e.g. `!\t...\t[remote rejected] (pre-receive hook declined)`.
      const m = /^(.)\t([^\t]+)\t(.*)$/.exec(line);
      if (!m) continue;
      sawStatus = true;
      const dst = m[2]!.split(':')[1] ?? m[2]!;
      const verdict = pushVerdict(m[1]!, m[3]!);
      if (summary && dst === summary.ref) {
        if (verdict === 'refused') refused.push({ ref: dst, why: m[3]! });
        continue;
      }
      if (verdict === 'ok') ok++;
      else if (verdict === 'raced') rejected.push(dst);
      else refused.push({ ref: dst, why: m[3]! });
    }
    if (refused.length) throw refusal(remote, refused, stderr);
    if (code !== 0 && !sawStatus)
      throw new GastownError('gastown_sync', `cannot push the ledger to ${redact(remote)}: ${redact(stderr.trim().split('\n')[0] ?? '')}`);
  } finally {
    side.dispose();
  }
  return { ok, rejected };
}

/**
 * The same push over smart HTTP in-process (push-over-http.ts): each plain ref swapped from
 * the value the sync read (the remote refuses it if that moved, as git's push refuses a
 * ref that is no longer behind), each leased one from its lease, and the summary with them,
 * atomically when there is a summary. Null: git pushes (nothing moved on the remote).
 */
async function pushInProcess(
  ledger: Ledger,
  remote: string,
  refs: string[],
  leased: { ref: string; expect: string }[],
  local: Map<string, string>,
  summary: SummaryUpdate | undefined,
  opts: PushOverHttpOptions,
): Promise<PushOutcome | null> {
  const commands: RefCommand[] = [];
  for (const ref of refs) {
    const oid = local.get(ref);
    if (oid) commands.push({ ref, old: opts.remoteValues.get(ref) ?? null, new: oid });
  }
  for (const { ref, expect } of leased) {
    const oid = local.get(ref);
    if (oid) commands.push({ ref, old: expect, new: oid });
  }
  if (summary) commands.push({ ref: summary.ref, old: summary.expect, new: summary.oid });
  const remoteHas = [...opts.remoteValues.values()].filter((v): v is string => !!v);
  const report = await pushOverHttp(ledger, opts.http, remote, commands, remoteHas, !!summary);
  if (!report) return null;
  let ok = 0;
  const rejected: string[] = [];
  const refused: { ref: string; why: string }[] = [];
  for (const c of commands) {
    const status = report.statuses.get(c.ref) ?? { ok: false as const, why: 'no status reported' };
    const verdict = status.ok ? 'ok' : pushVerdict('!', `[remote rejected] (${status.why})`);
    if (summary && c.ref === summary.ref) {
      if (verdict === 'refused') refused.push({ ref: c.ref, why: status.ok ? '' : status.why });
      continue;
    }
    if (verdict === 'ok') ok++;
    else if (verdict === 'raced') rejected.push(c.ref);
    else refused.push({ ref: c.ref, why: status.ok ? '' : status.why });
  }
  if (refused.length) throw refusal(remote, refused, report.messages.map((m) => `remote: ${m}`).join('\n'));
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
  if (
    /^\[remote rejected\] \((?:failed to update ref|cannot lock ref|incorrect old value|failed to lock|atomic|stale info|reference already exists)/.test(
      summary,
    )
  )
    return 'raced';
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
