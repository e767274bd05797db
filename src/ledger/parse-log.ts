import { decodeMessage } from './entity-codec.js';
import type { DocKind, HistoryEntry } from './ledger-types.js';

/** The `git log` format the ledger reads chains and trails with: one record per commit. */
export const LOG_FORMAT = '--format=%H%x00%ct%x00%an%x00%P%x00%B%x1e';

/** Decodes a commit message's JSON, or null for messages other tools wrote. */
export function safeDecode(message: string): unknown {
  try {
    return decodeMessage(message).value;
  } catch {
    return null;
  }
}

export function parseLog<T>(text: string): HistoryEntry<T>[] {
  const out: HistoryEntry<T>[] = [];
  for (const rec of text.split('\x1e')) {
    const r = rec.replace(/^\n/, '');
    if (!r) continue;
    const [oid, time, actor, parents, message] = r.split('\x00');
    if (!oid || message === undefined) continue;
    let decoded: { summary: string; value: T };
    try {
      decoded = decodeMessage<T>(message);
    } catch {
      decoded = { summary: message.split('\n')[0] ?? '', value: null as T };
    }
    out.push({
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

export function kindOfSummary(summary: string, kinds: DocKind[]): DocKind {
  for (const k of kinds) if (summary.includes(` ${k}/`)) return k;
  return kinds[0] ?? 'beads';
}
