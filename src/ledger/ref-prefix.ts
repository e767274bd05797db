/**
 * What makes a ledger prefix: `refs/`, then one or more path segments git accepts in a ref
 * name (`git check-ref-format`), then `/`. Pure (no git process), so the ledger, the rig
 * settings and the repository config all check it the same way. Besides keeping git happy
 * this keeps every ref file inside `.git/refs`: no `..`, no segment starting with `.`.
 */
const FORBIDDEN = /[\x00-\x20\x7f~^:?*[\\]/;

/** Null when `prefix` is a usable ledger prefix; otherwise one line saying what is wrong. */
export function refPrefixProblem(prefix: string): string | null {
  if (!prefix.startsWith('refs/')) return 'must start with refs/';
  if (!prefix.endsWith('/')) return 'must end with /';
  const segments = prefix.slice('refs/'.length, -1);
  if (segments === '') return 'needs a name after refs/ (e.g. refs/gastown/)';
  if (prefix.includes('//')) return 'must not contain //';
  if (prefix.includes('..')) return 'must not contain ..';
  if (prefix.includes('@{')) return 'must not contain @{';
  const bad = FORBIDDEN.exec(prefix);
  if (bad) return `must not contain ${describe(bad[0])}`;
  for (const segment of segments.split('/')) {
    if (segment.startsWith('.')) return `no segment may start with . (got ${JSON.stringify(segment)})`;
    if (segment.endsWith('.lock')) return `no segment may end with .lock (got ${JSON.stringify(segment)})`;
  }
  return null;
}

function describe(ch: string): string {
  if (ch === ' ') return 'spaces';
  const code = ch.charCodeAt(0);
  return code < 0x20 || code === 0x7f ? 'control characters' : ch;
}
