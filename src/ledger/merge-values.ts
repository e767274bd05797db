/**
 * Deterministic field-level 3-way merge of two JSON values that diverged from a common
 * base. Symmetric by construction: the caller says which side wins true conflicts (the
 * later edit, ties broken by commit id), so two clones merging the same pair in opposite
 * roles produce byte-identical JSON.
 *
 * - a field changed on one side only takes that side's value;
 * - both sides changed a nested object: merged field by field;
 * - both sides changed an array of strings (labels, blockedBy): merged as sets
 *   (additions from both, removals from both), sorted;
 * - anything else changed on both sides: the winner's value.
 */
/** One field both sides changed differently: the value kept and the one given up. */
export interface MergeConflict {
  /** Dotted path of the field (`title`, `issue.url`); empty for the whole value. */
  path: string;
  kept: unknown;
  dropped: unknown;
}

/**
 * `conflicts`, when given, collects every true conflict (in a fixed order: the winner's
 * keys first, then the loser's other keys sorted), so the caller can record what it dropped.
 */
export function mergeValues(base: unknown, ours: unknown, theirs: unknown, oursWins: boolean, conflicts?: MergeConflict[]): unknown {
  return merge(base, ours, theirs, oursWins, '', conflicts ?? []);
}

function merge(base: unknown, ours: unknown, theirs: unknown, oursWins: boolean, path: string, conflicts: MergeConflict[]): unknown {
  if (equal(ours, theirs)) return ours;
  if (equal(ours, base)) return theirs;
  if (equal(theirs, base)) return ours;
  if (isPlainObject(ours) && isPlainObject(theirs)) {
    const b = isPlainObject(base) ? base : {};
    const winner = oursWins ? ours : theirs;
    const loser = oursWins ? theirs : ours;
    const keys = [
      ...Object.keys(winner),
      ...Object.keys(loser)
        .filter((k) => !(k in winner))
        .sort(),
    ];
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const v = merge(b[k], ours[k], theirs[k], oursWins, path ? `${path}.${k}` : k, conflicts);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  if (isStringArray(ours) && isStringArray(theirs) && (base === undefined || isStringArray(base))) {
    const b = new Set(base ?? []);
    const o = new Set(ours);
    const t = new Set(theirs);
    const out = new Set<string>();
    for (const x of [...ours, ...theirs]) {
      const keptByBoth = o.has(x) && t.has(x);
      const addedByOne = !b.has(x) && (o.has(x) || t.has(x));
      if (keptByBoth || addedByOne) out.add(x);
    }
    return [...out].sort();
  }
  conflicts.push({ path, kept: oursWins ? ours : theirs, dropped: oursWins ? theirs : ours });
  return oursWins ? ours : theirs;
}

/**
 * One line for a merge commit's summary naming what a true conflict dropped, e.g.
 * `kept title from bob (later edit); dropped title "Write docs" from alice`. Values are
 * shortened; the dropped version itself stays in history as the merge's other parent.
 */
export function describeConflicts(conflicts: MergeConflict[], winner: string, loser: string): string {
  const fields = conflicts.map((c) => c.path || 'value');
  const dropped = conflicts.map((c) => `${c.path || 'value'} ${shorten(c.dropped)}`);
  return `kept ${fields.join(', ')} from ${winner} (later edit); dropped ${dropped.join(', ')} from ${loser}`;
}

function shorten(v: unknown): string {
  const text = v === undefined ? '(unset)' : JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

export function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => equal(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao);
  if (ak.length !== Object.keys(bo).length) return false;
  return ak.every((k) => k in bo && equal(ao[k], bo[k]));
}
