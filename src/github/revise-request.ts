/**
 * What a pull request comment or review asks of the polecat that made the pull request:
 * `/gt revise <text>` on its first non-empty line (the text and the lines after it are the
 * feedback), or a mention of the app (`@<app-slug>`) anywhere (the whole body is). Null for
 * anything else, so ordinary discussion on a polecat's pull request starts nothing.
 */
export function revisionAsk(body: string | null | undefined, appSlug: string | null): string | null {
  const text = (body ?? '').replace(/\r\n/g, '\n');
  const lines = text.split('\n');
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first >= 0) {
    const m = /^\s*\/gt\s+revise\b(.*)$/i.exec(lines[first]!);
    if (m) return [m[1]!.trim(), ...lines.slice(first + 1)].join('\n').trim() || 'Please revise.';
  }
  if (appSlug && mentions(text, appSlug)) return text.trim();
  return null;
}

/** Whether the text mentions `@slug` (GitHub's rule: not inside a word or an e-mail address). */
export function mentions(text: string, slug: string): boolean {
  const escaped = slug.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9_.@/-])@${escaped}(?![A-Za-z0-9_-])`, 'i').test(text);
}

/** Author associations that cannot be a writer: no permission request is made for them. */
const NEVER_WRITERS = new Set(['NONE', 'CONTRIBUTOR', 'FIRST_TIMER', 'FIRST_TIME_CONTRIBUTOR', 'MANNEQUIN']);

/** `true`: a writer for sure (the repository's owner); `false`: never one; `null`: ask GitHub. */
export function writerByAssociation(association: string | null | undefined): boolean | null {
  if (!association) return null;
  const a = association.toUpperCase();
  if (a === 'OWNER') return true;
  return NEVER_WRITERS.has(a) ? false : null;
}

/** The app's slug (`<slug>[bot]` without the suffix), asked only when `body` could mention it. */
export async function appSlug(
  memory: { ownLogin(): Promise<string | null> } | undefined,
  body: string | null | undefined,
): Promise<string | null> {
  if (!memory || !(body ?? '').includes('@')) return null;
  const login = await memory.ownLogin();
  return login ? login.replace(/\[bot\]$/, '') : null;
}
