import { decodeMessage } from './entity-codec.js';
import type { HistoryEntry } from './ledger-types.js';

/** The `git log` format the ledger reads chains and trails with: one record per commit. */
export const LOG_FORMAT = '--format=%H%x00%ct%x00%an%x00%P%x00%B%x1e';

/** The same with the ref each commit was reached from (`%S`, needs `git log --source`). */
export const SOURCE_LOG_FORMAT = '--format=%H%x00%ct%x00%an%x00%P%x00%S%x00%B%x1e';

/** Decodes a commit message's JSON, or null for messages other tools wrote. */
export function safeDecode(message: string): unknown {
  try {
    return decodeMessage(message).value;
  } catch {
    return null;
  }
}

/**
 * Records of LOG_FORMAT (or SOURCE_LOG_FORMAT with `withSource`). A message that is not our
 * format gives value null and `undecoded` true: the caller may look in the tree.
 */
export function parseLog<T>(text: string, withSource = false): (HistoryEntry<T> & { source?: string; undecoded?: boolean })[] {
  const out: (HistoryEntry<T> & { source?: string; undecoded?: boolean })[] = [];
  for (const rec of text.split('\x1e')) {
    const r = rec.replace(/^\n/, '');
    if (!r) continue;
    const fields = r.split('\x00');
    const source = withSource ? fields.splice(4, 1)[0] : undefined;
    const [oid, time, actor, parents, message] = fields;
    if (!oid || message === undefined) continue;
    let decoded: { summary: string; value: T };
    let undecoded = false;
    try {
      decoded = decodeMessage<T>(message);
    } catch {
      decoded = { summary: message.split('\n')[0] ?? '', value: null as T };
      undecoded = true;
    }
    out.push({
      ...(source !== undefined ? { source } : {}),
      ...(undecoded || decoded.value === null ? { undecoded: true } : {}),
      oid,
      time: Number(time),
      actor: actor ?? '',
      parents: parents ? parents.split(' ').filter(Boolean) : [],
      summary: decoded.summary,
      value: decoded.value,
    });
  }
  return out;
}

/** The kind a history entry's summary names (` beads/gt-1a2b`), else the first kind asked for. */
export function kindOfSummary<D extends string>(summary: string, kinds: readonly [D, ...D[]] | D[]): D {
  for (const k of kinds) if (summary.includes(` ${k}/`)) return k;
  return kinds[0] as D;
}
