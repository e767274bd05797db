/**
 * How a ledger value becomes a commit: the tree holds `<name>.json` (what a person sees
 * with `git show <ref>:bead.json`), and the commit message repeats the same JSON after the
 * summary line, so one object read (or one `git log`) yields the value, its parents and
 * its time: the hot paths never need a second lookup.
 */
export function encodeMessage(summary: string, value: unknown): string {
  const line = summary.replace(/[\r\n]+/g, ' ').slice(0, 200);
  return `${line}\n\n${JSON.stringify(value)}\n`;
}

export function decodeMessage<T>(message: string): { summary: string; value: T } {
  const split = message.indexOf('\n\n');
  const summary = split < 0 ? message.trim() : message.slice(0, split);
  const body = split < 0 ? '' : message.slice(split + 2).trim();
  return { summary, value: (body ? JSON.parse(body) : null) as T };
}
