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
export function mergeValues(base: unknown, ours: unknown, theirs: unknown, oursWins: boolean): unknown {
  if (equal(ours, theirs)) return ours;
  if (equal(ours, base)) return theirs;
  if (equal(theirs, base)) return ours;
  if (isPlainObject(ours) && isPlainObject(theirs)) {
    const b = isPlainObject(base) ? base : {};
    const winner = oursWins ? ours : theirs;
    const loser = oursWins ? theirs : ours;
    const keys = [...Object.keys(winner), ...Object.keys(loser).filter((k) => !(k in winner)).sort()];
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const v = mergeValues(b[k], ours[k], theirs[k], oursWins);
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
  return oursWins ? ours : theirs;
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
