import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isSortedPacked, lowerBound } from './sorted-packed-refs.js';

/**
 * Every ref under `prefix` (which ends with '/') with the object it names, read straight
 * from a "files" ref store: the `packed-refs` lines in that range, then the loose files
 * (a loose ref is newer than its packed line, so it wins). Sorted by name, as git lists.
 *
 * Starting `git for-each-ref` costs more than reading the files (a hot path: every sync and
 * every listing of a kind does it). Undefined when git must answer: a symbolic or
 * malformed ref, an unreadable file, or refs that kept moving while we read (git rewrites
 * `packed-refs` whole and then deletes the loose files it packed, so a listing taken across
 * a pack-refs could mix old and new; it is taken again when `packed-refs` changed meanwhile).
 */
export function listRefFiles(gitDir: string, prefix: string, oidLength: number): Map<string, string> | undefined {
  if (!prefix.endsWith('/')) return undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const before = packedKey(gitDir);
    if (before === undefined) return undefined;
    let packed: Map<string, string> | undefined = new Map();
    if (before !== null) {
      packed = packedRange(gitDir, before, prefix, oidLength);
      if (packed === undefined) return undefined;
    }
    // git writes packed-refs sorted, so only refs that exist loose alone need a sort.
    const found = new Map(packed);
    const loose = readLooseRefs(join(gitDir, prefix), prefix, oidLength, found);
    if (loose === 'git') return undefined;
    if (loose === 'moved' || packedKey(gitDir) !== before) continue;
    return found.size > packed.size ? new Map([...found].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) : found;
  }
  return undefined;
}

/**
 * The packed refs under `prefix`, parsed once per version of `packed-refs` (a long-lived
 * process such as the app lists the same kinds again and again; a sync lists twice).
 */
const parsed = new Map<string, { key: string; ranges: Map<string, Map<string, string> | undefined> }>();

function packedRange(gitDir: string, key: string, prefix: string, oidLength: number): Map<string, string> | undefined {
  let entry = parsed.get(gitDir);
  if (entry?.key !== key) {
    entry = { key, ranges: new Map() };
    parsed.set(gitDir, entry);
  }
  if (entry.ranges.has(prefix)) return entry.ranges.get(prefix);
  let bytes: Buffer;
  try {
    bytes = readFileSync(join(gitDir, 'packed-refs'));
  } catch {
    return undefined;
  }
  const range = new Map<string, string>();
  const ok = readPacked(bytes, prefix, oidLength, range);
  // Parsed from a file that changed since it was stat'ed: used once, not kept.
  if (packedKey(gitDir) !== key) return ok ? range : undefined;
  entry.ranges.set(prefix, ok ? range : undefined);
  return ok ? range : undefined;
}

/** Identity of `packed-refs` (null: none; undefined: cannot tell). */
function packedKey(gitDir: string): string | null | undefined {
  try {
    const st = statSync(join(gitDir, 'packed-refs'));
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? null : undefined;
  }
}

/**
 * The `<oid> <ref>` lines under `prefix`; false on a line that is not one. Searched as bytes
 * and only that range decoded: turning all of a 10,000-bead `packed-refs` (1.5 MB) into a
 * string cost a fresh process 9 ms, the byte search 3 ms, for a kind with few refs or none.
 */
export function readPacked(bytes: Buffer, prefix: string, oidLength: number, into: Map<string, string>): boolean {
  let start: number;
  let end: number;
  if (isSortedPacked(bytes)) {
    // Found by binary search: every name under `prefix` sorts from `prefix` up to the same
    // string with its last character ('/') raised by one. A listing of the few summaries or
    // hooks beside 10,000 packed beads no longer scans the whole 1.5 MB for its range.
    const above = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    start = lowerBound(bytes, prefix, oidLength);
    end = lowerBound(bytes, above, oidLength);
    if (start >= end) return true;
  } else {
    const needle = Buffer.from(` ${prefix}`);
    const first = bytes.indexOf(needle);
    if (first < 0) return true;
    // Lines outside the prefix inside this span are filtered below.
    start = bytes.lastIndexOf(0x0a, first) + 1;
    const last = bytes.lastIndexOf(needle);
    const nl = bytes.indexOf(0x0a, last);
    end = nl < 0 ? bytes.length : nl;
  }
  for (const line of bytes.toString('utf8', start, end).split('\n')) {
    if (line.startsWith('^') || line.startsWith('#') || !line) continue;
    const sp = line.indexOf(' ');
    const name = line.slice(sp + 1);
    if (!name.startsWith(prefix)) continue;
    // git wrote this file; a line of the wrong shape (not an object id) sends us to git.
    if (sp !== oidLength) return false;
    into.set(name, line.slice(0, sp));
  }
  return true;
}

/**
 * The loose ref files under `dir` (the directory of `prefix`), read into `into` by name.
 * 'moved': a file went away while read (packed or deleted meanwhile: read again); 'git':
 * something only git can read (a symbolic or malformed ref, an unreadable directory).
 */
export function readLooseRefs(dir: string, prefix: string, oidLength: number, into: Map<string, string>): 'ok' | 'moved' | 'git' {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // A directory git removed (emptied by pack-refs) while we walked: nothing loose there.
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'ok' : 'git';
  }
  for (const entry of entries) {
    if (entry.name.endsWith('.lock')) continue;
    if (entry.isDirectory()) {
      const sub = readLooseRefs(join(dir, entry.name), `${prefix}${entry.name}/`, oidLength, into);
      if (sub !== 'ok') return sub;
      continue;
    }
    if (!entry.isFile()) return 'git';
    let text: string;
    try {
      text = readFileSync(join(dir, entry.name), 'utf8');
    } catch (e) {
      // Packed (or deleted) since the directory was read: read again.
      return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'moved' : 'git';
    }
    const oid = text.trim();
    if (oid.length !== oidLength || !/^[0-9a-f]+$/.test(oid)) return 'git';
    into.set(`${prefix}${entry.name}`, oid);
  }
  return 'ok';
}
