import { GastownError } from '../errors.js';
import type { Ledger } from './ledger.js';
import { mergeValues } from './merge-values.js';
import type { RefUpdate } from './ref-updater.js';
import { redact, runGit } from './run-git.js';

export interface SyncResult {
  /** Refs that came from the remote and did not exist here. */
  created: number;
  fastForwarded: number;
  merged: number;
  pushed: number;
  attempts: number;
}

export interface SyncOptions {
  maxAttempts?: number;
  /** Called with short progress lines (for the CLI on a TTY). */
  onProgress?: (line: string) => void;
}

const CHAIN_KINDS = new Set(['mail', 'feed', 'cursors']);
const REPLACED_KINDS = new Set(['heartbeats']);
const SYNC_ACTOR = 'gastown-sync';

/**
 * Two-way sync of the ledger with a remote, never forcing over anyone's work:
 * 1. fetch the remote's ledger refs into a private tracking namespace;
 * 2. per ref: take new refs, fast-forward, or merge divergent histories (documents by a
 *    deterministic field-level 3-way merge; append-only chains by a merge commit, so both
 *    sides' entries are kept) in one local compare-and-swap transaction;
 * 3. push the refs that are ahead, without force; on rejection (someone pushed meanwhile)
 *    go back to 1.
 * Merge commits take their parents in sorted order and the later parent's time, so two
 * clones that merge the same pair make the very same commit: they converge.
 */
export async function syncLedger(ledger: Ledger, remote: string, opts: SyncOptions = {}): Promise<SyncResult> {
  const result: SyncResult = { created: 0, fastForwarded: 0, merged: 0, pushed: 0, attempts: 0 };
  const tracking = trackingPrefix(ledger.prefix);
  const maxAttempts = opts.maxAttempts ?? 6;
  for (;;) {
    result.attempts++;
    opts.onProgress?.(`fetching ${redact(remote)}`);
    await runGit(['fetch', '--quiet', '--no-tags', '--prune', '--no-write-fetch-head', remote, `+${ledger.prefix}*:${tracking}*`], {
      cwd: ledger.repoDir,
    }).catch((e: unknown) => {
      throw new GastownError('gastown_sync', `cannot fetch the ledger from ${redact(remote)}`, undefined, { cause: e });
    });
    const local = await ledger.refs('');
    const remoteRefs = await remoteTracking(ledger, tracking);
    const { updates, toPush, forcePush, stats } = await reconcile(ledger, local, remoteRefs);
    if (updates.length && !(await ledger.setRefs(updates))) {
      // A local writer moved a ref while we merged: start over with fresh reads.
      if (result.attempts >= maxAttempts) throw new GastownError('gastown_sync', 'the local ledger kept changing during sync');
      continue;
    }
    result.created += stats.created;
    result.fastForwarded += stats.fastForwarded;
    result.merged += stats.merged;
    if (toPush.length === 0 && forcePush.length === 0) return result;
    opts.onProgress?.(`pushing ${toPush.length + forcePush.length} refs`);
    const pushed = await push(ledger, remote, toPush, forcePush);
    if (pushed.rejected.length === 0) {
      result.pushed += pushed.ok;
      return result;
    }
    result.pushed += pushed.ok;
    if (result.attempts >= maxAttempts)
      throw new GastownError('gastown_sync', `push rejected ${maxAttempts} times (the remote keeps moving)`, { refs: pushed.rejected.slice(0, 10) });
  }
}

export function trackingPrefix(prefix: string): string {
  return `refs/gastown-remote/${prefix.replace(/^refs\//, '')}`;
}

async function remoteTracking(ledger: Ledger, tracking: string): Promise<Map<string, string>> {
  const { stdout } = await runGit(['for-each-ref', '--format=%(objectname) %(refname)', tracking], { cwd: ledger.repoDir });
  const map = new Map<string, string>();
  for (const line of stdout.toString('utf8').split('\n')) {
    if (!line) continue;
    const sp = line.indexOf(' ');
    map.set(ledger.prefix + line.slice(sp + 1 + tracking.length), line.slice(0, sp));
  }
  return map;
}

interface Reconciled {
  updates: RefUpdate[];
  toPush: string[];
  /** Refs whose history is replaced rather than grown (heartbeats): pushed with a lease. */
  forcePush: { ref: string; expect: string }[];
  stats: { created: number; fastForwarded: number; merged: number };
}

async function reconcile(ledger: Ledger, local: Map<string, string>, remote: Map<string, string>): Promise<Reconciled> {
  const out: Reconciled = { updates: [], toPush: [], forcePush: [], stats: { created: 0, fastForwarded: 0, merged: 0 } };
  for (const [ref, l] of local) if (!remote.has(ref)) out.toPush.push(ref);
  for (const [ref, r] of remote) {
    const l = local.get(ref);
    if (l === r) continue;
    if (l === undefined) {
      out.updates.push({ ref, newOid: r, oldOid: null });
      out.stats.created++;
      continue;
    }
    const kind = ref.slice(ledger.prefix.length).split('/')[0] ?? '';
    if (REPLACED_KINDS.has(kind)) {
      // Latest beat wins; no history to merge.
      const [lc, rc] = await Promise.all([ledger.readCommit(l), ledger.readCommit(r)]);
      const remoteNewer = (rc?.time ?? 0) > (lc?.time ?? 0) || ((rc?.time ?? 0) === (lc?.time ?? 0) && r > l);
      if (remoteNewer) out.updates.push({ ref, newOid: r, oldOid: l });
      else out.forcePush.push({ ref, expect: r });
      continue;
    }
    const rel = await relation(ledger, l, r);
    if (rel.kind === 'ahead') out.toPush.push(ref);
    else if (rel.kind === 'behind') {
      out.updates.push({ ref, newOid: r, oldOid: l });
      out.stats.fastForwarded++;
    } else {
      const merged = await mergeCommit(ledger, kind, ref, l, r, rel.base);
      out.updates.push({ ref, newOid: merged, oldOid: l });
      out.toPush.push(ref);
      out.stats.merged++;
    }
  }
  return out;
}

type Relation = { kind: 'ahead' } | { kind: 'behind' } | { kind: 'diverged'; base: string | null };

/** How local commit `l` relates to remote commit `r`, by walking parents in-process. */
async function relation(ledger: Ledger, l: string, r: string): Promise<Relation> {
  const fromL = await ancestors(ledger, l);
  if (fromL.has(r)) return { kind: 'ahead' };
  const fromR = await ancestors(ledger, r);
  if (fromR.has(l)) return { kind: 'behind' };
  // Nearest common ancestor: the newest commit both histories contain.
  let base: string | null = null;
  let baseTime = -1;
  for (const [oid, time] of fromR) {
    if (fromL.has(oid) && (time > baseTime || (time === baseTime && base !== null && oid > base))) {
      base = oid;
      baseTime = time;
    }
  }
  return { kind: 'diverged', base };
}

async function ancestors(ledger: Ledger, tip: string): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  let frontier = [tip];
  while (frontier.length) {
    const commits = await Promise.all(frontier.map((o) => ledger.readCommit(o)));
    const next: string[] = [];
    commits.forEach((c, i) => {
      if (!c) return;
      seen.set(frontier[i]!, c.time);
      for (const p of c.parents) if (!seen.has(p)) next.push(p);
    });
    frontier = [...new Set(next)];
  }
  return seen;
}

async function mergeCommit(ledger: Ledger, kind: string, ref: string, l: string, r: string, base: string | null): Promise<string> {
  const [lc, rc, bc] = await Promise.all([ledger.readCommit(l, kind), ledger.readCommit(r, kind), base ? ledger.readCommit(base, kind) : null]);
  if (!lc || !rc) throw new GastownError('gastown_sync', `cannot read both sides of ${ref}`);
  const parents = [l, r].sort();
  const time = Math.max(lc.time, rc.time);
  const id = ref.slice(ledger.prefix.length);
  if (CHAIN_KINDS.has(kind)) return ledger.writeValueCommit(kind, null, parents, `merge ${id}`, SYNC_ACTOR, time);
  // The later edit wins a true conflict; equal times fall back to the commit id.
  const localWins = lc.time > rc.time || (lc.time === rc.time && l > r);
  const value = mergeValues(bc?.value, lc.value, rc.value, localWins);
  return ledger.writeValueCommit(kind, value, parents, `merge ${id}`, SYNC_ACTOR, time);
}

async function push(
  ledger: Ledger,
  remote: string,
  refs: string[],
  leased: { ref: string; expect: string }[],
): Promise<{ ok: number; rejected: string[] }> {
  let ok = 0;
  const rejected: string[] = [];
  // Explicit refspecs keep the push to what changed; chunks keep command lines short.
  const chunks: string[][] = [];
  for (let i = 0; i < refs.length; i += 2000) chunks.push(refs.slice(i, i + 2000).map((r) => `${r}:${r}`));
  const leaseArgs = leased.map((x) => `--force-with-lease=${x.ref}:${x.expect}`);
  if (leased.length) chunks.push([...leaseArgs, ...leased.map((x) => `+${x.ref}:${x.ref}`)]);
  for (const specs of chunks) {
    const args = specs[0]?.startsWith('--force-with-lease')
      ? ['push', '--porcelain', '--no-verify', ...specs.filter((s) => s.startsWith('--')), remote, ...specs.filter((s) => !s.startsWith('--'))]
      : ['push', '--porcelain', '--no-verify', remote, ...specs];
    const { stdout, stderr, code } = await runGit(args, { cwd: ledger.repoDir, okCodes: [1] });
    let sawStatus = false;
    for (const line of stdout.toString('utf8').split('\n')) {
      const m = /^(.)\t([^\t]+)\t/.exec(line);
      if (!m) continue;
      sawStatus = true;
      const dst = m[2]!.split(':')[1] ?? m[2]!;
      if (m[1] === '!') rejected.push(dst);
      else ok++;
    }
    if (code !== 0 && !sawStatus)
      throw new GastownError('gastown_sync', `cannot push the ledger to ${redact(remote)}: ${redact(stderr.trim().split('\n')[0] ?? '')}`);
  }
  return { ok, rejected };
}
