/**
 * Git's pkt-line framing (gitprotocol-common(5)): each line is prefixed with its length,
 * including the four hex digits themselves; `0000` ends a message (flush), `0001` separates
 * a v2 command's capabilities from its arguments (delim), `0002` ends a response (v2).
 */
export const FLUSH = Buffer.from('0000', 'latin1');
export const DELIM = Buffer.from('0001', 'latin1');

/** The largest pkt-line git sends or accepts (65520 bytes, header included). */
const MAX_PKT = 65520;

export function pktLine(data: string | Buffer): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (body.length + 4 > MAX_PKT) throw new Error(`pkt-line too long (${body.length} bytes)`);
  return Buffer.concat([Buffer.from((body.length + 4).toString(16).padStart(4, '0'), 'latin1'), body]);
}

/** One parsed packet: its payload, or the special packet it is. */
export type Packet = { kind: 'data'; data: Buffer } | { kind: 'flush' } | { kind: 'delim' } | { kind: 'end' };

/** Splits a whole response into packets; throws on a malformed length (the caller falls back to git). */
export function readPackets(buf: Buffer): Packet[] {
  const out: Packet[] = [];
  let at = 0;
  while (at < buf.length) {
    if (at + 4 > buf.length) throw new Error('truncated pkt-line header');
    const head = buf.toString('latin1', at, at + 4);
    if (!/^[0-9a-f]{4}$/.test(head)) throw new Error(`bad pkt-line header ${JSON.stringify(head)}`);
    const len = Number.parseInt(head, 16);
    if (len === 0) out.push({ kind: 'flush' });
    else if (len === 1) out.push({ kind: 'delim' });
    else if (len === 2) out.push({ kind: 'end' });
    else if (len < 4 || at + len > buf.length) throw new Error('truncated pkt-line');
    else out.push({ kind: 'data', data: buf.subarray(at + 4, at + len) });
    at += len < 4 ? 4 : len;
  }
  return out;
}
