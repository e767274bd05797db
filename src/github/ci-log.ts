/**
 * A failing CI job's log as a polecat may read it: the failing step's tail, without ANSI
 * escapes, Actions' timestamps or anything that looks like a secret, capped in size. The log
 * is untrusted text (it holds whatever the PR's code printed); the prompt wraps it as data.
 */

const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?/gm;
const REDACTED = '[redacted]';

/** Things that look like credentials, each replaced whole (or, for `key=value`, its value). */
const SECRET_PATTERNS: [RegExp, string | ((...m: string[]) => string)][] = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, REDACTED],
  [/\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b/g, REDACTED],
  [/\bsk-(?:ant-)?[A-Za-z0-9_-]{16,}/g, REDACTED],
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, REDACTED],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/g, REDACTED],
  [/\b(Bearer|Basic|token)\s+[A-Za-z0-9._~+/=-]{16,}/gi, (_m, scheme) => `${scheme} ${REDACTED}`],
  [
    /\b([A-Za-z0-9_]*(?:password|passwd|secret|token|api[_-]?key|credential)[A-Za-z0-9_]*)(\s*[:=]\s*)("[^"]*"|'[^']*'|\S+)/gi,
    (_m, key, sep) => `${key}${sep}${REDACTED}`,
  ],
  [/(\/\/[^/\s:@]+:)[^@\s/]+@/g, (_m, user) => `${user}${REDACTED}@`],
  // Long strings that mix cases and digits (keys, JWT parts); plain hex (commit ids) stays.
  [/\b(?=[A-Za-z0-9+/_=-]*[a-z])(?=[A-Za-z0-9+/_=-]*[A-Z])(?=[A-Za-z0-9+/_=-]*\d)[A-Za-z0-9+/_=-]{40,}/g, REDACTED],
];

export interface LogTailOptions {
  /** Lines kept from the end of the failing step (default 80). */
  maxLines?: number;
  /** Bytes kept at most (default 6,000). */
  maxBytes?: number;
}

/** Strips escapes and secrets-looking strings, then keeps the failing step's last lines. */
export function failingStepTail(log: string, opts: LogTailOptions = {}): string {
  const maxLines = opts.maxLines ?? 80;
  const maxBytes = opts.maxBytes ?? 6_000;
  let text = log.replace(/\r\n?/g, '\n').replace(ANSI, '').replace(TIMESTAMP, '');
  // Actions opens each step with `##[group]Run ...`: the failing step is the last one that ran.
  const start = text.lastIndexOf('##[group]Run ');
  if (start > 0) text = text.slice(start);
  text = redactSecrets(text);
  let lines = text.split('\n');
  while (lines.length && lines.at(-1)!.trim() === '') lines.pop();
  if (lines.length > maxLines) lines = ['…', ...lines.slice(-maxLines)];
  let out = lines.join('\n');
  if (Buffer.byteLength(out) > maxBytes)
    out = `…${Buffer.from(out)
      .subarray(-maxBytes)
      .toString('utf8')
      .replace(/^[^\n]*\n/, '\n')}`;
  return out;
}

export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement as never);
  return out;
}
