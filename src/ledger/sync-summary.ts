import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hexDigest } from '../digest.js';
import { GastownError } from '../errors.js';
import type { Ledger } from './ledger.js';
import { parseCommit } from './git-objects.js';
import { listRefFiles, readLooseRefs, readPacked } from './list-ref-files.js';
import { ObjectReader } from './object-reader.js';
import { safeDecode } from './parse-log.js';
import type { LocalRefState } from './local-ref-state.js';
import { redact, runGit } from './run-git.js';
import { keptSideRepo, SIDE_GIT } from './side-repo.js';
import type { RecordedRemoteDir } from './sync-remote-dir.js';
import { fetchObjectsOverHttp } from './fetch-over-http.js';
import { SmartHttp } from './smart-http.js';

/**
 * Per-writer summary refs: `refs/gastown/` → `refs/gastown-sync/<writer>`, beside the
 * ledger's namespace (like the leases), so listing or fetching the ledger never sees them.
 * Every push of ledger refs moves its writer's summary in the same atomic push, to a commit
 * (empty tree, parent the previous summary) whose value names the refs pushed. A clone that
 * recorded every writer's summary when it was last equal with the remote can then tell
 * "nothing changed there" from one small fetch limited to this prefix (protocol v2
 * `ref-prefix`), and what changed by walking the summaries that moved, instead of reading
 * the remote's whole ref advertisement (10,000 refs) and comparing it with 10,000 local refs.
 * One ref per writer, not one for everybody: pushes from different clones never contend on it.
 */
export function summaryPrefix(prefix: string): string {
  return `${prefix.replace(/\/$/, '')}-sync/`;
}

export function ownSummaryRef(ledger: Ledger): string {
  return `${summaryPrefix(ledger.prefix)}${ledger.writerId}`;
}

/** The value of a summary commit. */
interface SummaryValue {
  refs: string[];
}

/** Above this many summary commits to walk since the last sync, the full comparison is cheaper. */
const WALK_MAX = 256;

/**
 * Every writer's summary ref on the remote and its value, from one fetch in a side
 * repository (which brings the few new summary commits into the object store; the ones
 * seen before are there already, given as haves).
 */
export async function fetchSummaries(
  ledger: Ledger,
  remote: string,
  known: Record<string, string> = {},
  http?: SmartHttp,
): Promise<Map<string, string>> {
  const prefix = summaryPrefix(ledger.prefix);
  if (http && SmartHttp.speaks(remote)) {
    // Twice, as for ledger refs (fetch-changed.ts): a summary moved between list and fetch is listed anew.
    for (let attempt = 0; attempt < 2; attempt++) {
      const overHttp = await summariesOverHttp(ledger, http, remote, prefix, known);
      if (overHttp) return overHttp;
    }
  }
  const side = keptSideRepo(ledger, 'summaries', new Map(Object.values(known).map((oid, i) => [`refs/have/${i}`, oid])));
  try {
    await runGit(
      // --prune: the kept side repository's refs/got/ must hold exactly the remote's summaries.
      [
        ...SIDE_GIT,
        'fetch',
        '--quiet',
        '--prune',
        '--no-tags',
        '--no-write-fetch-head',
        '--no-recurse-submodules',
        remote,
        `+${prefix}*:refs/got/*`,
      ],
      { cwd: ledger.repoDir, env: side.env },
    ).catch((e: unknown) => {
      throw new GastownError('gastown_sync', `cannot fetch the ledger from ${redact(remote)}`, undefined, { cause: e });
    });
    const got = listRefFiles(side.dir, 'refs/got/', ledger.zeroOid.length);
    if (!got) throw new GastownError('gastown_sync', `cannot read the summaries fetched from ${redact(remote)}`);
    const out = new Map<string, string>();
    for (const [ref, oid] of got) out.set(prefix + ref.slice('refs/got/'.length), oid);
    return out;
  } finally {
    side.dispose();
  }
}

/**
 * The same over smart HTTP in-process (smart-http.ts): the summaries from one `ls-refs`
 * request, and the commits of those that moved from one `fetch` request, with the values
 * known before as haves. Null when git must do it.
 */
async function summariesOverHttp(
  ledger: Ledger,
  http: SmartHttp,
  remote: string,
  prefix: string,
  known: Record<string, string>,
): Promise<Map<string, string> | null> {
  const refs = await http.lsRefs(remote, [prefix]);
  if (!refs || [...refs.values()].some((oid) => oid.length !== ledger.zeroOid.length)) return null;
  const moved = [...refs].filter(([ref, oid]) => known[ref] !== oid).map(([, oid]) => oid);
  if (moved.length && !(await fetchObjectsOverHttp(ledger, http, remote, moved, Object.values(known)))) return null;
  return refs;
}

/**
 * The packed summaries of a local remote as last read, with the identity of the
 * `packed-refs` file they came from (device, inode, size, both times to the nanosecond).
 */
export interface PackedSummaries {
  file: string;
  refs: Record<string, string>;
}

/**
 * Every writer's summary on a remote on this machine (a path or `file://`, as the
 * Refinery's shared bare repository is; `dir` is its git directory), read from its ref
 * files: no process at all. The fetch this saves (fetch, upload-pack and the connectivity
 * check: three processes) was most of a sync with nothing to do. Undefined when the files
 * cannot tell (a symbolic or damaged ref, a reftable store): the caller fetches.
 *
 * The packed ones are taken from `known` while the remote's `packed-refs` is the very file
 * they were read from: at 10,000 beads that file is 1.5 MB, read on every idle sync only to
 * find a few summaries. git never edits it in place (it writes a new file and renames it
 * over the old one), so another version has another inode and new times (the same
 * reasoning as local-ref-state.ts). The loose ones, where pushes land, are read each time.
 */
export function summariesInDir(
  ledger: Ledger,
  dir: string,
  known?: PackedSummaries,
): { refs: Map<string, string>; packed: PackedSummaries } | undefined {
  const prefix = summaryPrefix(ledger.prefix);
  const oidLength = ledger.zeroOid.length;
  for (let attempt = 0; attempt < 3; attempt++) {
    const file = packedIdentity(dir);
    if (file === undefined) return undefined;
    let packed: Map<string, string>;
    if (known && known.file === file) packed = new Map(Object.entries(known.refs));
    else {
      packed = new Map();
      if (file !== '-') {
        let bytes: Buffer;
        try {
          bytes = readFileSync(join(dir, 'packed-refs'));
        } catch {
          continue;
        }
        if (!readPacked(bytes, prefix, oidLength, packed)) return undefined;
      }
    }
    const refs = new Map(packed);
    const loose = readLooseRefs(join(dir, prefix), prefix, oidLength, refs);
    if (loose === 'git') return undefined;
    // Packed meanwhile (git writes packed-refs, then deletes the loose files): read again.
    if (loose === 'moved' || packedIdentity(dir) !== file) continue;
    return { refs, packed: { file, refs: Object.fromEntries(packed) } };
  }
  return undefined;
}

/** Identity of a repository's `packed-refs` ('-': none; undefined: cannot tell). */
function packedIdentity(dir: string): string | undefined {
  try {
    const st = statSync(join(dir, 'packed-refs'), { bigint: true });
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? '-' : undefined;
  }
}

/** Reads a summary commit: its parents and value, or null when it cannot be read. */
export type SummaryReader = (oid: string) => Promise<{ parents: string[]; value: unknown } | null>;

/**
 * Reads summary commits straight from the object files of a repository on this machine (the
 * local remote), before any fetch brought them here: so a sync can tell which refs moved and
 * fetch those and the summaries in one fetch instead of two. Only what `ObjectReader` reads
 * (loose objects, whole objects in packs: what a small push leaves in a bare remote); any
 * other form reads as null, and the caller then fetches the summaries first, as for a
 * network remote. What is read only chooses which refs to fetch: the refs themselves still
 * come through git.
 */
export function summariesReaderIn(ledger: Ledger, dir: string): SummaryReader {
  const reader = new ObjectReader(join(dir, 'objects'), ledger.zeroOid.length / 2);
  return async (oid) => {
    const obj = reader.read(oid);
    if (!obj || obj.type !== 'commit') return null;
    const c = parseCommit(obj.content);
    return { parents: c.parents, value: safeDecode(c.message) };
  };
}

/**
 * The ledger refs named by the summary commits from `to` back to `from` (exclusive), or null
 * when that cannot be told cheaply: `from` is not on the chain, or the walk is too long.
 */
export async function refsSince(
  ledger: Ledger,
  from: string | null,
  to: string,
  read: SummaryReader = (oid) => ledger.readCommit(oid),
): Promise<Set<string> | null> {
  const refs = new Set<string>();
  let at: string | undefined = to;
  for (let n = 0; at && at !== from; n++) {
    if (n >= WALK_MAX) return null;
    const c = await read(at);
    const value = c?.value as SummaryValue | null | undefined;
    if (!c || !value || !Array.isArray(value.refs)) return null;
    for (const ref of value.refs) if (typeof ref === 'string' && ref.startsWith(ledger.prefix)) refs.add(ref);
    at = c.parents[0];
  }
  // Walked to the first summary without meeting `from`: the chain is not the one recorded.
  if ((at ?? null) !== from) return null;
  return refs;
}

/** The summary update a push of `refs` carries: a new commit on top of the writer's current remote value. */
export interface SummaryUpdate {
  ref: string;
  oid: string;
  /** The remote's value it replaces (the push's lease), null when there is none yet. */
  expect: string | null;
}

export function summaryUpdate(ledger: Ledger, current: string | null, refs: string[]): SummaryUpdate {
  const value: SummaryValue = { refs: [...new Set(refs)].sort() };
  const oid = ledger.writeNoteCommit(value, current ? [current] : [], `sync ${ledger.writerId}`, 'gastown-sync');
  return { ref: ownSummaryRef(ledger), oid, expect: current };
}

/** This writer's summary on the remote now (for a push made outside sync, such as a claim). */
export async function currentOwnSummary(ledger: Ledger, remote: string, http?: SmartHttp): Promise<string | null> {
  return (await fetchSummaries(ledger, remote, {}, http)).get(ownSummaryRef(ledger)) ?? null;
}

/**
 * What a clone recorded at the end of a sync after which its ledger refs equalled the
 * remote's: every writer's summary as read before the remote's refs were, and the local
 * refs' state. While both still hold, there is nothing to fetch and nothing to push.
 */
export interface SyncState {
  /**
   * Which remote, as a digest of its URL without credentials: an app's URL carries an
   * installation token (in its user part, or anywhere a URL template puts it), and no token
   * may reach a file. A new token in the user part keeps the same digest.
   */
  remote: string;
  prefix: string;
  /** When the full comparison last ran (ms): it runs again after a while whatever the summaries say. */
  fullAt: number;
  summaries: Record<string, string>;
  local: LocalRefState;
  /** Where a named remote lives (sync-remote-dir.ts), so an idle sync need not ask git. */
  remoteDir?: RecordedRemoteDir;
  /** A local remote's packed summaries as last read (summariesInDir), so an idle sync need not read its packed-refs. */
  remotePacked?: PackedSummaries;
}

function remoteDigest(remote: string): string {
  return hexDigest('sha256', redact(remote));
}

function stateFile(ledger: Ledger): string {
  return join(ledger.gitDir, 'gastown', 'sync-state.json');
}

/** The recorded state for this remote and prefix, or null (none, another remote, unreadable). */
export function readSyncState(ledger: Ledger, remote: string): SyncState | null {
  try {
    const s = JSON.parse(readFileSync(stateFile(ledger), 'utf8')) as SyncState;
    if (s.remote !== remoteDigest(remote) || s.prefix !== ledger.prefix || typeof s.fullAt !== 'number') return null;
    if (!s.summaries || !s.local || typeof s.local.packed !== 'string' || !s.local.loose) return null;
    // A damaged cache of the remote's packed summaries is only not used.
    const p = s.remotePacked;
    if (p && (typeof p.file !== 'string' || !p.refs || typeof p.refs !== 'object')) delete s.remotePacked;
    // The remote as given, not its digest: a record written back from this one is digested once.
    return { ...s, remote };
  } catch {
    return null;
  }
}

/** Replaces the recorded state whole (a new file renamed over the old: a reader sees one or the other). */
export function writeSyncState(ledger: Ledger, state: SyncState | null): void {
  const file = stateFile(ledger);
  try {
    mkdirSync(join(ledger.gitDir, 'gastown'), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, state ? JSON.stringify({ ...state, remote: remoteDigest(state.remote) }) : '{}');
    renameSync(tmp, file);
  } catch {
    // Without a record the next sync does the full comparison: slower, never wrong.
  }
}
