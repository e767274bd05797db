import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { readLooseRefs } from './list-ref-files.js';

/**
 * What the refs under a prefix are, in a form cheap to take and to compare: a digest of the
 * `packed-refs` lines in that range and the loose ref files one by one. Equal states mean
 * equal refs, with no listing parsed: sync compares this with the state it recorded when
 * the ledger and the remote were last equal, and skips reading 10,000 refs when nothing
 * here moved. (A digest of contents rather than a stat key: a ref file rewritten within one
 * clock tick keeps its mtime, and a freed inode number is handed out again at once.)
 */
export interface LocalRefState {
  /** Length and CRC-32 of the `packed-refs` bytes under the prefix ('' when there are none). */
  packed: string;
  /** Loose ref name → object id. */
  loose: Record<string, string>;
  /**
   * Identity of the whole `packed-refs` file when `packed` was taken (device, inode, size,
   * change and modification times in nanoseconds), so a later look can reuse `packed`
   * without reading the file while it is the same file.
   */
  packedFile?: string;
}

/**
 * The state of the refs under `prefix` (ends with '/') in `gitDir`, taken between two
 * identical looks at `packed-refs` (git rewrites it whole and then deletes the loose files
 * it packed). With `parse`, also every ref's value (packed lines overridden by loose files).
 * Undefined when it cannot be told from the files (a symbolic or damaged ref, refs that
 * kept moving): the caller then does the full work.
 *
 * Given a state taken before (`known`) while `packed-refs` is still that very file, its
 * digest is reused instead of reading 1.5 MB again (sync's "nothing changed" path). git
 * never edits `packed-refs` in place: it writes a new file and renames it over the old one,
 * so another version is a new inode, with new change times; to pass for the old one it would
 * need the old inode number back, the same size, and both times equal to the nanosecond,
 * which takes two rewrites within one tick of the file system's clock. Even then sync's
 * full comparison, at least every five minutes, bounds what a wrong answer costs.
 */
export function localRefState(
  gitDir: string,
  prefix: string,
  oidLength: number,
  parse = false,
  known?: LocalRefState,
): { state: LocalRefState; refs?: Map<string, string> } | undefined {
  for (let attempt = 0; attempt < 3; attempt++) {
    const before = packedKey(gitDir);
    if (before === undefined) return undefined;
    let range: Buffer = Buffer.alloc(0);
    const reuse = !parse && before !== null && known?.packedFile === before ? known.packed : undefined;
    if (before !== null && reuse === undefined) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(join(gitDir, 'packed-refs'));
      } catch {
        continue;
      }
      range = packedRange(bytes, prefix);
    }
    const found = new Map<string, string>();
    const walked = readLooseRefs(join(gitDir, prefix), prefix, oidLength, found);
    if (walked === 'git') return undefined;
    if (walked === 'moved' || packedKey(gitDir) !== before) continue;
    const loose = Object.fromEntries(found);
    const state: LocalRefState = { packed: reuse ?? (range.length ? fingerprint(range) : ''), loose };
    if (before !== null) state.packedFile = before;
    if (!parse) return { state };
    const refs = parsePacked(range.toString('utf8'), prefix, oidLength);
    if (!refs) return undefined;
    for (const [ref, oid] of Object.entries(loose)) refs.set(ref, oid);
    return { state, refs };
  }
  return undefined;
}

export function sameLocalState(a: LocalRefState, b: LocalRefState): boolean {
  if (a.packed !== b.packed) return false;
  const ak = Object.keys(a.loose);
  if (ak.length !== Object.keys(b.loose).length) return false;
  return ak.every((k) => a.loose[k] === b.loose[k]);
}

/**
 * Length and CRC-32 of the bytes (native: 1.5 MB of packed-refs in well under a millisecond;
 * node:crypto's loading alone costs a short command more). Two versions of the same length
 * agree by chance once in 2^32, and packed-refs changes only when refs are packed; even then
 * the cost is bounded: sync's full comparison runs at least every five minutes.
 */
function fingerprint(bytes: Buffer): string {
  return `${bytes.length}:${crc32(bytes).toString(16)}`;
}

/** Identity of `packed-refs` (null: none; undefined: cannot tell). */
function packedKey(gitDir: string): string | null | undefined {
  try {
    const st = statSync(join(gitDir, 'packed-refs'), { bigint: true });
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? null : undefined;
  }
}

/** The lines of `packed-refs` (kept sorted by git) naming refs under `prefix`, with their peeled lines. */
function packedRange(bytes: Buffer, prefix: string): Buffer {
  const needle = Buffer.from(` ${prefix}`);
  const first = bytes.indexOf(needle);
  if (first < 0) return Buffer.alloc(0);
  const start = bytes.lastIndexOf(0x0a, first) + 1;
  const last = bytes.lastIndexOf(needle);
  let end = bytes.indexOf(0x0a, last);
  end = end < 0 ? bytes.length : end + 1;
  // A peeled line (`^<oid>`) after the last ref belongs to it.
  while (end < bytes.length && bytes[end] === 0x5e) {
    const next = bytes.indexOf(0x0a, end);
    end = next < 0 ? bytes.length : next + 1;
  }
  return bytes.subarray(start, end);
}

function parsePacked(text: string, prefix: string, oidLength: number): Map<string, string> | undefined {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('^') || line.startsWith('#')) continue;
    const sp = line.indexOf(' ');
    if (sp !== oidLength) return undefined;
    const name = line.slice(sp + 1);
    if (name.startsWith(prefix)) out.set(name, line.slice(0, sp));
  }
  return out;
}
