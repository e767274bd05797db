import { GastownError } from '../errors.js';
import type { Ledger } from './ledger.js';
import { describeConflicts, mergeValues, type MergeConflict } from './merge-values.js';
import { copyFromLocalRemote } from './copy-from-local-remote.js';
import { advertisedRefs, fetchRefs } from './fetch-changed.js';
import { pushLedger } from './push-ledger.js';
import { tidyLocalRemote } from './tidy-local-remote.js';
import type { RefUpdate } from './ref-updater.js';
import { redact, runGit } from './run-git.js';
import { isTombstone, TOMBSTONE } from './tombstone.js';
import { localRefState, sameLocalState, type LocalRefState } from './local-ref-state.js';
import {
  fetchSummaries,
  ownSummaryRef,
  readSyncState,
  refsSince,
  summariesInDir,
  summariesReaderIn,
  summaryUpdate,
  writeSyncState,
  type SummaryReader,
  type SyncState,
} from './sync-summary.js';
import type { SmartHttp } from './smart-http.js';
import { syncRemoteDir } from './sync-remote-dir.js';

export interface SyncResult {
  /** Refs that came from the remote and did not exist here. */
  created: number;
  fastForwarded: number;
  merged: number;
  pushed: number;
  attempts: number;
  /** Refs `afterMerge` changed (pushed with the rest). */
  reconciled: number;
  /**
   * Refs left alone because a value failed its kind's check (`Ledger.problemWith`) or could
   * not be read: a bad local value is not pushed, a bad remote value is not taken (the last
   * good local value stays).
   */
  refused: { ref: string; problem: string }[];
}

/** A ref this sync changed locally, for `afterMerge`. */
export interface SyncedRef {
  ref: string;
  kind: string;
  id: string;
  how: 'created' | 'fastForwarded' | 'merged';
  /** Its value here before this sync (null: it did not exist here). */
  before: string | null;
}

/** How the refs given to `afterMerge` were found. */
export interface MergeScope {
  /**
   * True when this sync looked only at the refs the writers' summaries named, because this
   * clone's refs were exactly as they were at the end of its last sync (after that sync's
   * repairs): a repair can then look only at what these refs touch. False after a full
   * comparison (local writes since, a first sync, one due every few minutes): everything.
   */
  scoped: boolean;
}

export interface SyncOptions {
  maxAttempts?: number;
  /** Called with short progress lines (for the CLI on a TTY). */
  onProgress?: (line: string) => void;
  /**
   * Runs once the remote's changes are in the local ledger and before the push, with the
   * refs they changed. It may write ordinary ledger transactions to restore invariants
   * that span entities, which a per-ref merge cannot see (the rig frees a polecat's hook
   * whose bead a merge gave to another polecat); what it changes is pushed in the same push.
   */
  afterMerge?: (changed: SyncedRef[], scope: MergeScope) => Promise<void>;
  /** Compare every ref with the remote, whatever the summaries say (`gt sync --full`). */
  full?: boolean;
  /**
   * Reads over smart HTTP in-process when the remote is an http(s) URL (ledger/smart-http.ts):
   * no git process for a sync that only reads, whatever it finds. Without it (or whenever it
   * cannot answer) git fetches. Pushes are git's either way.
   */
  http?: SmartHttp;
  /**
   * How long a scoped sync may follow the summaries before the full comparison runs again
   * (default 5 minutes). 0: every sync compares every ref, for remotes that writers without
   * summaries push to (an older gt, plain git, a process writing in the remote itself).
   */
  fullEveryMs?: number;
}

const SYNC_ACTOR = 'gastown-sync';

/**
 * Two-way sync of the ledger with a remote, never forcing over anyone's work:
 * 1. fetch the remote's ledger refs into a private tracking namespace;
 * 2. per ref: take new refs, fast-forward, or merge divergent histories (documents by a
 *    deterministic field-level 3-way merge; append-only chains by a merge commit, so both
 *    sides' entries are kept) in one local compare-and-swap transaction; values that fail
 *    their kind's check are neither taken nor pushed (`refused`);
 * 3. `afterMerge` (the rig's cross-entity repairs) runs its own transaction;
 * 4. push the refs that are ahead, without force; on rejection (someone pushed meanwhile)
 *    go back to 1. A refusal for any other reason (a remote hook) ends the sync with the
 *    remote's message.
 * Merge commits take their parents in sorted order and the later parent's time, so two
 * clones that merge the same pair make the very same commit: they converge. Deletes are
 * tombstones (tombstone.ts), so they travel like any other change.
 */
export async function syncLedger(ledger: Ledger, remote: string, opts: SyncOptions = {}): Promise<SyncResult> {
  const result: SyncResult = { created: 0, fastForwarded: 0, merged: 0, pushed: 0, attempts: 0, reconciled: 0, refused: [] };
  const tracking = trackingPrefix(ledger.prefix);
  const maxAttempts = opts.maxAttempts ?? 6;
  const ownSummary = ownSummaryRef(ledger);
  const recorded = ledger.refFilesDir ? readSyncState(ledger, remote) : null;
  const where = await syncRemoteDir(ledger, remote, recorded?.remoteDir);
  opts.onProgress?.(`checking ${redact(remote)}`);
  // Read before the remote's ledger refs: a summary recorded below is never newer than the
  // refs it is recorded with, so a push that lands meanwhile shows up as a change next time.
  // A remote on this machine: from its ref files, no process (sync-summary.ts summariesInDir).
  const inDir = recorded && where.dir ? summariesInDir(ledger, where.dir, recorded.remotePacked) : undefined;
  const onDisk = inDir?.refs;
  let summaries = onDisk && sameSummaries(recorded!.summaries, onDisk) ? onDisk : undefined;
  const started = localState(ledger, false, recorded?.local);
  const fullAt = Date.now();
  // Only the refs the moved summaries name, when this clone's refs are as they were when it
  // last equalled the remote; null: compare everything.
  let scope: Set<string> | null = null;
  const mayScope =
    !!recorded &&
    !!started &&
    !opts.full &&
    fullAt - recorded.fullAt < (opts.fullEveryMs ?? FULL_EVERY_MS) &&
    sameLocalState(recorded.local, started.state);
  /** Summaries that moved, fetched together with the refs they name (a local remote's, read before any fetch). */
  let along: { ref: string; have: string | null }[] = [];
  if (!summaries && onDisk && mayScope && onDisk.size > 0) {
    // Which refs moved, from the summary commits in the remote's own object files: then one
    // fetch brings those refs and the summaries, instead of a fetch of the summaries first.
    const found = await changedSince(ledger, recorded!.summaries, onDisk, summariesReaderIn(ledger, where.dir!));
    if (found && found.size > 0) {
      summaries = onDisk;
      scope = found;
      along = [...onDisk]
        .filter(([ref, oid]) => recorded!.summaries[ref] !== oid)
        .map(([ref]) => ({ ref, have: recorded!.summaries[ref] ?? null }));
    }
  }
  summaries ??= await fetchSummaries(ledger, remote, recorded?.summaries, opts.http);
  if (!scope && mayScope && summaries.size > 0) {
    scope = await changedSince(ledger, recorded!.summaries, summaries);
    if (scope?.size === 0) {
      // Nothing moved here or there: one small fetch (or none) was the whole sync.
      result.attempts = 1;
      const extra = { remoteDir: where.record ?? undefined, remotePacked: inDir?.packed };
      if (
        !sameSummaries(recorded!.summaries, summaries) ||
        recorded!.remoteDir !== extra.remoteDir ||
        recorded!.remotePacked?.file !== extra.remotePacked?.file
      )
        writeSyncState(ledger, { ...recorded!, summaries: Object.fromEntries(summaries), ...extra });
      return result;
    }
  }
  /** What the remote holds as far as this sync knows: what it read or fetched, then what it pushed. */
  let known = new Map<string, string>();
  const seenSummaries = new Map(summaries);
  let currentSummaries = summaries;
  /**
   * False when summaries read from a local remote's files were not fetched after all (a ref
   * gone made the named fetch fall back): their commits may not be here, and a recorded
   * summary is offered as a have by later fetches and walked back to by later syncs. Then
   * nothing is recorded.
   */
  let summariesHere = true;
  const keep = { extra: { remoteDir: where.record ?? undefined, remotePacked: inDir?.packed }, dir: where.dir };
  for (;;) {
    result.attempts++;
    const attemptScope = result.attempts === 1 ? scope : null; // a retry compares everything
    const view = attemptScope
      ? await scopedView(ledger, remote, tracking, attemptScope, along, where.dir, opts.http)
      : await fullView(ledger, remote, tracking, opts.onProgress, opts.http);
    const { local, seen, remoteRefs } = view;
    if ('alongFetched' in view && !view.alongFetched) summariesHere = false;
    known = new Map(remoteRefs);
    await recordSeen(ledger, tracking, seen, remoteRefs);
    const { updates, toPush, forcePush, stats, changed, refused } = await reconcile(ledger, local, remoteRefs);
    if (updates.length && !(await ledger.setRefs(updates))) {
      // A local writer moved a ref while we merged: start over with fresh reads.
      if (result.attempts >= maxAttempts) throw new GastownError('gastown_sync', 'the local ledger kept changing during sync');
      continue;
    }
    // A first sync brings thousands of loose refs, which would slow every later read of them.
    if (updates.length >= 1000) await runGit(['pack-refs', '--all'], { cwd: ledger.repoDir }).catch(() => undefined);
    result.created += stats.created;
    result.fastForwarded += stats.fastForwarded;
    result.merged += stats.merged;
    result.refused = refused;
    if (opts.afterMerge && changed.length) {
      const fixed = await runAfterMerge(
        ledger,
        (c) => opts.afterMerge!(c, { scoped: attemptScope !== null }),
        changed,
        new Set([...toPush, ...refused.map((r) => r.ref)]),
        started?.state,
      );
      toPush.push(...fixed);
      result.reconciled += fixed.length;
    }
    if (toPush.length === 0 && forcePush.length === 0) {
      const kept = summariesHere
        ? record(ledger, remote, recorded, started, attemptScope, local, known, seenSummaries, fullAt, keep.extra)
        : forget(ledger);
      if (kept) await packWhenLoose(ledger, kept);
      return result;
    }
    opts.onProgress?.(`pushing ${toPush.length + forcePush.length} refs`);
    if (result.attempts > 1) currentSummaries = await fetchSummaries(ledger, remote, {}, opts.http);
    const pushedRefs = [...toPush, ...forcePush.map((f) => f.ref)];
    const summary = summaryUpdate(ledger, currentSummaries.get(ownSummary) ?? null, pushedRefs);
    const pushed = await pushLedger(
      ledger,
      remote,
      toPush,
      forcePush,
      summary,
      opts.http ? { http: opts.http, remoteValues: await remoteValuesOf(ledger, tracking, toPush, known) } : undefined,
    );
    result.pushed += pushed.ok;
    if (pushed.ok > 0) await tidyLocalRemote(keep.dir, pushedRefs, pushed.ok);
    const values = await recordPushed(ledger, tracking, pushedRefs, pushed.rejected);
    if (pushed.rejected.length === 0) {
      for (const [ref, oid] of values) known.set(ref, oid);
      seenSummaries.set(ownSummary, summary.oid);
      const kept = summariesHere
        ? record(ledger, remote, recorded, started, attemptScope, local, known, seenSummaries, fullAt, keep.extra)
        : forget(ledger);
      if (kept) await packWhenLoose(ledger, kept);
      return result;
    }
    if (result.attempts >= maxAttempts)
      throw new GastownError('gastown_sync', `push rejected ${maxAttempts} times (the remote keeps moving)`, {
        refs: pushed.rejected.slice(0, 10),
      });
  }
}

/**
 * After this long the full comparison runs again whatever the summaries say: a push that
 * moved no summary (plain git, an older gt) is then seen within minutes, not never.
 */
const FULL_EVERY_MS = 5 * 60_000;

interface View {
  local: Map<string, string>;
  seen: Map<string, string>;
  remoteRefs: Map<string, string>;
}

/** Every ledger ref: the remote's advertisement against the local refs and the last-seen values. */
async function fullView(
  ledger: Ledger,
  remote: string,
  tracking: string,
  onProgress?: (line: string) => void,
  http?: SmartHttp,
): Promise<View> {
  const advertised = await advertisedRefs(ledger, remote, http);
  const local = await ledger.refs('');
  const seen = await lastSeen(ledger, tracking);
  // Only refs whose remote value is neither ours nor one seen before need objects fetched.
  const wanted = [...advertised].filter(([ref, oid]) => local.get(ref) !== oid && seen.get(ref) !== oid).map(([ref]) => ref);
  const remoteRefs = new Map(advertised);
  if (wanted.length) {
    onProgress?.(`fetching ${wanted.length} ref${wanted.length === 1 ? '' : 's'} from ${redact(remote)}`);
    const got = await fetchRefs(
      ledger,
      remote,
      wanted.map((ref) => ({ ref, have: local.get(ref) ?? seen.get(ref) ?? null })),
      http,
    );
    // The remote may have moved since it advertised: what was fetched is its value now.
    for (const ref of wanted) {
      const oid = got.get(ref);
      if (oid) remoteRefs.set(ref, oid);
      else remoteRefs.delete(ref);
    }
  }
  return { local, seen, remoteRefs };
}

/**
 * Only `scope` (the refs the moved summaries name): their values here, last seen, and
 * fetched; with them, in the same fetch, the summaries `along` (read from a local remote's
 * files), whose commits the next sync offers as haves.
 */
async function scopedView(
  ledger: Ledger,
  remote: string,
  tracking: string,
  scope: Set<string>,
  along: { ref: string; have: string | null }[],
  dir: string | null,
  http?: SmartHttp,
): Promise<View & { alongFetched: boolean }> {
  const refs = [...scope];
  const toTracking = (ref: string) => tracking + ref.slice(ledger.prefix.length);
  const present = (m: Map<string, string | null>) => new Map([...m].filter((e): e is [string, string] => e[1] !== null));
  const local = present(await ledger.tips(refs));
  const seenTips = await ledger.tips(refs.map(toTracking));
  const seen = new Map<string, string>();
  for (const ref of refs) {
    const oid = seenTips.get(toTracking(ref));
    if (oid) seen.set(ref, oid);
  }
  // Only objects held here are offered as haves (a summary commit can be pruned by the
  // user's `git gc`: no local ref holds one; git tolerated that in a test, but a have must
  // name what this side has).
  const haves = await Promise.all(along.map(async (a) => (a.have && (await ledger.objectType(a.have)) ? a.have : null)));
  const wanted = [
    ...refs.map((ref) => ({ ref, have: local.get(ref) ?? seen.get(ref) ?? null })),
    ...along.map((a, i) => ({ ref: a.ref, have: haves[i]! })),
  ];
  // A remote on this machine: its files read and the missing objects copied in-process
  // (copy-from-local-remote.ts), no process; anything that cannot be read so is fetched.
  const fetched = (dir ? await copyFromLocalRemote(ledger, dir, wanted) : null) ?? (await fetchRefs(ledger, remote, wanted, http));
  const remoteRefs = new Map([...fetched].filter(([ref]) => ref.startsWith(ledger.prefix)));
  return { local, seen, remoteRefs, alongFetched: along.every((a) => fetched.has(a.ref)) };
}

/** The ledger refs named by every summary that moved since `before`; null when a full comparison is needed. */
async function changedSince(
  ledger: Ledger,
  before: Record<string, string>,
  now: Map<string, string>,
  read?: SummaryReader,
): Promise<Set<string> | null> {
  for (const ref of Object.keys(before)) if (!now.has(ref)) return null; // a summary went away: someone rewrote the remote
  const out = new Set<string>();
  for (const [ref, oid] of now) {
    if (before[ref] === oid) continue;
    const named = await refsSince(ledger, before[ref] ?? null, oid, read);
    if (!named) return null;
    for (const r of named) out.add(r);
  }
  return out;
}

function sameSummaries(a: Record<string, string>, b: Map<string, string>): boolean {
  return Object.keys(a).length === b.size && [...b].every(([ref, oid]) => a[ref] === oid);
}

/** `known`: a state taken before, whose digest of `packed-refs` is reused while that file is unchanged. */
function localState(ledger: Ledger, parse = false, known?: LocalRefState): ReturnType<typeof localRefState> {
  const dir = ledger.refFilesDir;
  return dir ? localRefState(dir, ledger.prefix, ledger.zeroOid.length, parse, known) : undefined;
}

/**
 * Records the summaries and this clone's ref state when its ledger refs now equal what the
 * remote holds (`known`); otherwise forgets any record, so the next sync compares everything.
 * After a full comparison equality is checked ref by ref. After a scoped one, against the
 * state at its start (which equalled the remote then): only the scoped refs may have moved,
 * each to the remote's value.
 */
function record(
  ledger: Ledger,
  remote: string,
  recorded: SyncState | null,
  started: ReturnType<typeof localRefState>,
  scope: Set<string> | null,
  startLocal: Map<string, string>,
  known: Map<string, string>,
  summaries: Map<string, string>,
  fullAt: number,
  extra: Pick<SyncState, 'remoteDir' | 'remotePacked'>,
): SyncState | null {
  if (!ledger.refFilesDir) return null;
  const keep = (local: LocalRefState, at: number) => {
    const state = {
      remote,
      prefix: ledger.prefix,
      fullAt: at,
      summaries: Object.fromEntries(summaries),
      local,
      ...extra,
    };
    writeSyncState(ledger, state);
    return state;
  };
  if (!scope || !recorded || !started) {
    const now = localState(ledger, true);
    const equal = now?.refs && now.refs.size === known.size && [...now.refs].every(([ref, oid]) => known.get(ref) === oid);
    if (equal && now) return keep(now.state, fullAt);
    writeSyncState(ledger, null);
    return null;
  }
  const now = localState(ledger, false, started.state);
  const before = started.state;
  let ok = !!now && now.state.packed === before.packed;
  if (now && ok) {
    const after = now.state.loose;
    for (const ref of new Set([...Object.keys(before.loose), ...Object.keys(after), ...scope])) {
      // A scoped ref the remote does not hold (or that this sync could not take) leaves the two unequal.
      if (scope.has(ref) && !known.has(ref)) {
        ok = false;
        break;
      }
      const expected = scope.has(ref) ? known.get(ref) : before.loose[ref];
      // A scoped ref still packed (not in `after`) is unchanged: fine when the remote holds that value.
      const actual = after[ref] ?? (scope.has(ref) && before.loose[ref] === undefined ? startLocal.get(ref) : undefined);
      if (actual !== expected) {
        ok = false;
        break;
      }
    }
  }
  if (ok && now) return keep(now.state, recorded.fullAt);
  writeSyncState(ledger, null);
  return null;
}

/** Forgets the record: the next sync compares everything. */
function forget(ledger: Ledger): null {
  if (ledger.refFilesDir) writeSyncState(ledger, null);
  return null;
}

/** Above this many loose ledger refs, a sync that ends equal with the remote packs them. */
const LOOSE_MAX = 512;

/**
 * Packs this clone's refs once many are loose, keeping the record valid. Every sync that
 * takes or pushes something leaves loose ref files (the refs and their tracking refs), and
 * nothing else packs them in a clone that only gt uses (git's `gc --auto` counts objects,
 * not refs): the app's mirror, which syncs on almost every webhook, would walk thousands of
 * them on every sync. The layout changes, the values do not: the state recorded just now is
 * taken again after the pack and kept only if every value is the same as before it; if a
 * write landed meanwhile the old record no longer matches and the next sync compares
 * everything, as after any local write.
 */
async function packWhenLoose(ledger: Ledger, kept: SyncState): Promise<void> {
  if (Object.keys(kept.local.loose).length <= LOOSE_MAX) return;
  const before = localState(ledger, true);
  if (!before?.refs || !sameLocalState(before.state, kept.local)) return;
  await runGit(['pack-refs', '--all'], { cwd: ledger.repoDir }).catch(() => undefined);
  const after = localState(ledger, true);
  const same =
    !!after?.refs && after.refs.size === before.refs.size && [...after.refs].every(([ref, oid]) => before.refs!.get(ref) === oid);
  if (same && after) writeSyncState(ledger, { ...kept, local: after.state });
}

/**
 * Runs the caller's repairs; returns the refs they moved (to push), leaving out `skip`. What
 * moved is told from the loose ref files before and after (the repairs' transactions write
 * loose refs) rather than from two listings of every ref. Should a pack-refs run meanwhile,
 * a repaired ref it packed is not pushed by this sync; the ledger then differs from what was
 * pushed, so no state is recorded and the next sync compares everything and pushes it.
 */
async function runAfterMerge(
  ledger: Ledger,
  afterMerge: (changed: SyncedRef[]) => Promise<void>,
  changed: SyncedRef[],
  skip: Set<string>,
  known?: LocalRefState,
): Promise<string[]> {
  // Only the loose refs are compared: a state taken before lends its packed-refs digest.
  const stateBefore = localState(ledger, false, known);
  const before = stateBefore ? null : await ledger.refs('');
  await afterMerge(changed);
  if (before) {
    const after = await ledger.refs('');
    return [...after].filter(([ref, oid]) => before.get(ref) !== oid && !skip.has(ref)).map(([ref]) => ref);
  }
  const a = stateBefore!.state.loose;
  const b =
    localState(ledger, false, stateBefore!.state)?.state.loose ?? (Object.fromEntries(await ledger.refs('')) as Record<string, string>);
  return Object.keys(b).filter((ref) => a[ref] !== b[ref] && !skip.has(ref));
}

/**
 * The remote's value of each ref to push as this sync knows it: what it read (`known`), else
 * what this clone last saw there (a repair's ref outside a scoped sync's view); null: none.
 * A push in-process swaps each from this value, so a wrong guess is only a lost race.
 */
async function remoteValuesOf(
  ledger: Ledger,
  tracking: string,
  refs: string[],
  known: Map<string, string>,
): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>(known);
  const unknown = refs.filter((ref) => !known.has(ref));
  const toTracking = (ref: string) => tracking + ref.slice(ledger.prefix.length);
  const seen = unknown.length ? await ledger.tips(unknown.map(toTracking)) : new Map<string, string | null>();
  for (const ref of unknown) out.set(ref, seen.get(toTracking(ref)) ?? null);
  return out;
}

export function trackingPrefix(prefix: string): string {
  return `refs/gastown-remote/${prefix.replace(/^refs\//, '')}`;
}

/** The remote's values as this clone last saw them (its tracking refs), by ledger ref name. */
async function lastSeen(ledger: Ledger, tracking: string): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  for (const [ref, oid] of await ledger.refsUnder(tracking)) map.set(ledger.prefix + ref.slice(tracking.length), oid);
  return map;
}

/**
 * Points the tracking refs at the remote's values (and drops those the remote no longer
 * has), in one `update-ref` when any differ. They keep fetched objects reachable and are
 * the last synced copy `gt doctor --fix` restores a broken ref from.
 */
async function recordSeen(ledger: Ledger, tracking: string, seen: Map<string, string>, remote: Map<string, string>): Promise<void> {
  const lines: string[] = [];
  const toTracking = (ref: string) => tracking + ref.slice(ledger.prefix.length);
  for (const [ref, oid] of remote) if (seen.get(ref) !== oid) lines.push(`update ${toTracking(ref)} ${oid}`);
  for (const ref of seen.keys()) if (!remote.has(ref)) lines.push(`delete ${toTracking(ref)}`);
  if (lines.length === 0) return;
  // A few moved (the usual sync): compare-and-swap them in-process from the values read,
  // instead of starting `git update-ref`; if they moved meanwhile, git sets them.
  const few = [...remote].filter(([ref, oid]) => seen.get(ref) !== oid);
  if (lines.length === few.length && few.length <= 32) {
    const updates = few.map(([ref, oid]) => ({ ref: toTracking(ref), newOid: oid, oldOid: seen.get(ref) ?? null }));
    if (await ledger.setRefs(updates).catch(() => false)) return;
  }
  await runGit(['update-ref', '--stdin'], { cwd: ledger.repoDir, input: `${lines.join('\n')}\n` });
  // Thousands of loose refs (a clone's first sync) would slow every later read of them.
  if (lines.length >= 1000) await runGit(['pack-refs', '--all'], { cwd: ledger.repoDir }).catch(() => undefined);
}

/**
 * After a push the remote holds what was pushed: recorded as seen, so the next sync need not
 * fetch it. Returns the values pushed (read ref by ref: a push of a few refs lists nothing).
 */
async function recordPushed(ledger: Ledger, tracking: string, refs: string[], rejected: string[]): Promise<Map<string, string>> {
  const lost = new Set(rejected);
  const values = new Map<string, string>();
  for (const [ref, oid] of await ledger.tips(refs.filter((r) => !lost.has(r)))) if (oid) values.set(ref, oid);
  const lines = [...values].map(([r, oid]) => `update ${tracking}${r.slice(ledger.prefix.length)} ${oid}`);
  if (lines.length === 0) return values;
  // A few (the usual push): compare-and-swap them in-process from their values now, as
  // recordSeen does, instead of starting `git update-ref`; if they moved meanwhile, git sets them.
  if (values.size <= 32) {
    const names = [...values.keys()].map((r) => `${tracking}${r.slice(ledger.prefix.length)}`);
    const before = await ledger.tips(names);
    const updates = [...values].map(([, oid], i) => ({ ref: names[i]!, newOid: oid, oldOid: before.get(names[i]!) ?? null }));
    if (await ledger.setRefs(updates).catch(() => false)) return values;
  }
  await runGit(['update-ref', '--stdin'], { cwd: ledger.repoDir, input: `${lines.join('\n')}\n` });
  if (lines.length >= 1000) await runGit(['pack-refs', '--all'], { cwd: ledger.repoDir }).catch(() => undefined);
  return values;
}

interface Reconciled {
  updates: RefUpdate[];
  toPush: string[];
  /** Refs of kinds whose history is replaced rather than grown (heartbeats): pushed with a lease. */
  forcePush: { ref: string; expect: string }[];
  stats: { created: number; fastForwarded: number; merged: number };
  changed: SyncedRef[];
  refused: { ref: string; problem: string }[];
}

async function reconcile(ledger: Ledger, local: Map<string, string>, remote: Map<string, string>): Promise<Reconciled> {
  const out: Reconciled = {
    updates: [],
    toPush: [],
    forcePush: [],
    stats: { created: 0, fastForwarded: 0, merged: 0 },
    changed: [],
    refused: [],
  };
  const nameOf = (ref: string) => {
    const rest = ref.slice(ledger.prefix.length);
    const slash = rest.indexOf('/');
    return { kind: rest.slice(0, slash), id: rest.slice(slash + 1) };
  };
  /** False (and the ref noted as refused) when the value at `oid` is not good enough to spread. */
  const good = async (ref: string, oid: string, value?: unknown): Promise<boolean> => {
    const problem = await problemAt(ledger, nameOf(ref).kind, oid, value);
    if (problem) out.refused.push({ ref, problem });
    return !problem;
  };
  const take = (ref: string, newOid: string, oldOid: string | null, how: SyncedRef['how']) => {
    out.updates.push({ ref, newOid, oldOid });
    out.stats[how]++;
    out.changed.push({ ref, ...nameOf(ref), how, before: oldOid });
  };
  const localOnly = [...local].filter(([ref]) => !remote.has(ref));
  const checked = await Promise.all(localOnly.map(([ref, l]) => good(ref, l)));
  localOnly.forEach(([ref], i) => checked[i] && out.toPush.push(ref));
  for (const [ref, r] of remote) {
    const l = local.get(ref);
    if (l === r) continue;
    if (l === undefined) {
      if (await good(ref, r)) take(ref, r, null, 'created');
      continue;
    }
    const { kind } = nameOf(ref);
    if (!ledger.kinds.keepsHistory(kind)) {
      // Latest beat (or delete) wins; no history to merge.
      const [lc, rc] = await Promise.all([ledger.readCommit(l), ledger.readCommit(r)]);
      const remoteNewer = (rc?.time ?? 0) > (lc?.time ?? 0) || ((rc?.time ?? 0) === (lc?.time ?? 0) && r > l);
      if (remoteNewer) {
        if (await good(ref, r)) {
          out.updates.push({ ref, newOid: r, oldOid: l });
          out.changed.push({ ref, ...nameOf(ref), how: 'fastForwarded', before: l });
        }
      } else if (await good(ref, l)) out.forcePush.push({ ref, expect: r });
      continue;
    }
    const rel = await relation(ledger, l, r);
    if (rel.kind === 'ahead') {
      if (await good(ref, l)) out.toPush.push(ref);
    } else if (rel.kind === 'behind') {
      if (await good(ref, r)) take(ref, r, l, 'fastForwarded');
    } else {
      const merged = await mergeCommit(ledger, kind, ref, l, r, rel);
      if (!(await good(ref, merged.oid, merged.value))) continue;
      take(ref, merged.oid, l, 'merged');
      out.toPush.push(ref);
    }
  }
  return out;
}

/**
 * What keeps the value at `oid` from spreading, or null. A tombstone and a chain's merge
 * commit (no entry of its own) are fine; a value nobody can decode is not.
 */
async function problemAt(ledger: Ledger, kind: string, oid: string, known?: unknown): Promise<string | null> {
  let value = known;
  let isMerge = known === null; // the merges made here pass their value; only a chain's is null
  if (value === undefined) {
    const c = await ledger.readCommit(oid, kind).catch(() => null);
    if (!c) return `commit ${oid} cannot be read`;
    value = c.value;
    isMerge = c.parents.length > 1;
  }
  if (value === null && isMerge && ledger.kinds.isChain(kind)) return null;
  if (value === null) return `${kind} value at ${oid.slice(0, 12)} cannot be decoded`;
  if (isTombstone(value)) return null;
  const problem = ledger.problemWith(kind, value);
  return problem ? `${problem} (at ${oid.slice(0, 12)})` : null;
}

type Relation =
  | { kind: 'ahead' }
  | { kind: 'behind' }
  | { kind: 'diverged'; base: string | null; fromL: Map<string, number>; fromR: Map<string, number> };

/**
 * How local commit `l` relates to remote commit `r`, by walking parents in-process. Both
 * histories are walked a generation at a time, side by side, and the walk stops as soon as
 * one contains the other's tip: the usual sync is a fast-forward one way or the other, found
 * after reading the few commits one side lacks, however long the history (a writer's feed
 * chain grows by one commit per event). Only diverged histories are read whole, for the base.
 */
async function relation(ledger: Ledger, l: string, r: string): Promise<Relation> {
  const fromL = new Map<string, number>();
  const fromR = new Map<string, number>();
  let nextL = [l];
  let nextR = [r];
  while (nextL.length || nextR.length) {
    nextL = await generation(ledger, nextL, fromL);
    if (fromL.has(r)) return { kind: 'ahead' };
    nextR = await generation(ledger, nextR, fromR);
    if (fromR.has(l)) return { kind: 'behind' };
  }
  // Nearest common ancestor: the newest commit both histories contain.
  let base: string | null = null;
  let baseTime = -1;
  for (const [oid, time] of fromR) {
    if (fromL.has(oid) && (time > baseTime || (time === baseTime && base !== null && oid > base))) {
      base = oid;
      baseTime = time;
    }
  }
  return { kind: 'diverged', base, fromL, fromR };
}

/** Reads the commits of `frontier` into `seen` (oid → time); returns their parents not seen yet. */
async function generation(ledger: Ledger, frontier: string[], seen: Map<string, number>): Promise<string[]> {
  const commits = await Promise.all(frontier.map((o) => ledger.readCommit(o)));
  const next: string[] = [];
  commits.forEach((c, i) => {
    if (!c) return;
    seen.set(frontier[i]!, c.time);
    for (const p of c.parents) if (!seen.has(p)) next.push(p);
  });
  return [...new Set(next)].filter((p) => !seen.has(p));
}

/**
 * The merge of two diverged versions of one ref: the commit (written, not yet on any ref)
 * and its value. Everything here depends only on the pair, never on which side is local,
 * so both clones make the same commit. A true conflict keeps the later edit and the
 * summary names the dropped value (`gt trail` shows it).
 */
async function mergeCommit(
  ledger: Ledger,
  kind: string,
  ref: string,
  l: string,
  r: string,
  rel: Extract<Relation, { kind: 'diverged' }>,
): Promise<{ oid: string; value: unknown }> {
  const { base } = rel;
  const [lc, rc, bc] = await Promise.all([
    ledger.readCommit(l, kind),
    ledger.readCommit(r, kind),
    base ? ledger.readCommit(base, kind) : null,
  ]);
  if (!lc || !rc) throw new GastownError('gastown_sync', `cannot read both sides of ${ref}`);
  const parents = [l, r].sort();
  const time = Math.max(lc.time, rc.time);
  const id = ref.slice(ledger.prefix.length);
  const write = (value: unknown, summary: string) => ({
    oid: ledger.writeValueCommit(kind, value, parents, summary, SYNC_ACTOR, time),
    value,
  });
  if (ledger.kinds.isChain(kind)) return write(null, `merge ${id}`);
  // The later edit wins a true conflict; equal times fall back to the commit id.
  const localWins = lc.time > rc.time || (lc.time === rc.time && l > r);
  const [winner, loser] = localWins ? [lc, rc] : [rc, lc];
  const lDead = isTombstone(lc.value);
  const rDead = isTombstone(rc.value);
  if (lDead && rDead) return write(TOMBSTONE, `merge ${id}: deleted on both sides`);
  if (lDead || rDead) {
    // A delete against a concurrent edit: the delete wins, whatever the clocks say. It was
    // a decision about the whole entity, while the edit was made without knowing the entity
    // was gone; letting a field edit bring it back would resurrect a half-updated entity.
    // The one exception is a side that itself deleted and then wrote the entity anew after
    // the merge base: that side saw a delete and chose to re-create, so its version wins.
    // Both rules depend only on the two histories, so every clone decides the same way.
    const [live, liveOid, liveHistory, deadHistory] = lDead ? [rc, r, rel.fromR, rel.fromL] : [lc, l, rel.fromL, rel.fromR];
    if (await recreatedAfterDelete(ledger, liveHistory, deadHistory))
      return write(live.value, `merge ${id}: re-created after a delete; kept the new version`);
    return write(TOMBSTONE, `merge ${id}: deleted; dropped a concurrent edit by ${live.actor} (${liveOid.slice(0, 12)})`);
  }
  const conflicts: MergeConflict[] = [];
  const baseValue = bc && !isTombstone(bc.value) ? bc.value : undefined;
  const value = mergeValues(baseValue, lc.value, rc.value, localWins, conflicts);
  const summary = conflicts.length ? `merge ${id}: ${describeConflicts(conflicts, winner.actor, loser.actor)}` : `merge ${id}`;
  return write(value, summary);
}

/** True when a tombstone is among the commits only `mine` holds (a delete, then a new version). */
async function recreatedAfterDelete(ledger: Ledger, mine: Map<string, number>, theirs: Map<string, number>): Promise<boolean> {
  const own = [...mine.keys()].filter((o) => !theirs.has(o));
  const commits = await Promise.all(own.map((o) => ledger.readCommit(o)));
  return commits.some((c) => c && isTombstone(c.value));
}
