/**
 * Questions to a packed-refs file that git wrote sorted (its header has the `sorted` trait),
 * answered by binary search over its lines, as git itself reads it, instead of a scan of the
 * whole file per question. At 10,000 beads packed-refs is 1.5 MB, and `gt bead create` asked
 * it once per loose ref ("is this one packed too?") and once per level of the new ref's name
 * ("does a packed ref clash with it?"): 20 ms of a 110 ms command, growing with the beads.
 *
 * Lines are `<oid> <refname>\n`; a `^<oid>\n` line after a tag's is its peeled value.
 */

const NL = 0x0a;
const PEEL = 0x5e; // '^'

/** Whether git wrote this packed-refs sorted; anything else must be scanned. */
export function isSortedPacked(packed: Buffer): boolean {
  const end = packed.indexOf(NL);
  if (end < 0) return false;
  const header = packed.toString('latin1', 0, end);
  return header.startsWith('# pack-refs with:') && ` ${header.slice('# pack-refs with:'.length)} `.includes(' sorted ');
}

/** Where the first line whose ref name is ≥ `name` begins (the file's length when none is). */
export function lowerBound(packed: Buffer, name: string, oidLength: number): number {
  let lo = packed[0] === 0x23 ? packed.indexOf(NL) + 1 : 0; // past the header
  let hi = packed.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    // The start of the line holding `mid`; a peeled line belongs to the ref line before it.
    let start = Math.max(lo, packed.lastIndexOf(NL, mid - 1) + 1);
    while (start > lo && packed[start] === PEEL) start = Math.max(lo, packed.lastIndexOf(NL, start - 2) + 1);
    const { ref, next } = lineAt(packed, start, oidLength);
    if (ref < name) lo = next;
    else hi = start;
  }
  return lo;
}

/** The ref name of the line at `start` and where the next ref line begins (peeled lines skipped). */
function lineAt(packed: Buffer, start: number, oidLength: number): { ref: string; next: number } {
  const end = packed.indexOf(NL, start);
  const lineEnd = end < 0 ? packed.length : end;
  const ref = packed.toString('latin1', start + oidLength + 1, lineEnd);
  let next = lineEnd + 1;
  while (next < packed.length && packed[next] === PEEL) {
    const e = packed.indexOf(NL, next);
    next = e < 0 ? packed.length : e + 1;
  }
  return { ref, next: Math.min(next, packed.length) };
}

/** The name of the ref line at `at`, or null at the end of the file. */
function refAt(packed: Buffer, at: number, oidLength: number): string | null {
  return at < packed.length ? lineAt(packed, at, oidLength).ref : null;
}

/** Whether `name` itself is packed. */
export function hasPackedRef(packed: Buffer, name: string, oidLength: number): boolean {
  return refAt(packed, lowerBound(packed, name, oidLength), oidLength) === name;
}

/** Whether a packed ref lies under `prefix` (which ends with '/'). */
export function hasPackedUnder(packed: Buffer, prefix: string, oidLength: number): boolean {
  return refAt(packed, lowerBound(packed, prefix, oidLength), oidLength)?.startsWith(prefix) ?? false;
}

/** How many packed refs lie under `prefix` (which ends with '/'). */
export function countPackedUnder(packed: Buffer, prefix: string, oidLength: number): number {
  let at = lowerBound(packed, prefix, oidLength);
  // Every name under `prefix` sorts before `prefix` with its '/' raised to the next byte.
  const end = lowerBound(packed, `${prefix.slice(0, -1)}${String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)}`, oidLength);
  if (at >= end) return 0;
  // Lines in [at, end), but for the peeled ones: one decode and a newline search, not a parse per line.
  const run = packed.toString('latin1', at, end);
  let n = 0;
  for (let line = 0; line < run.length; ) {
    if (run.charCodeAt(line) !== PEEL) n++;
    const nl = run.indexOf('\n', line);
    if (nl < 0) break;
    line = nl + 1;
  }
  return n;
}
