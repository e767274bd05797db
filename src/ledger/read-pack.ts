import { inflateSync } from 'node:zlib';
import { digest, hexDigest } from '../digest.js';
import type { HashAlgo, ObjectType } from './git-objects.js';

export interface PackedObject {
  oid: string;
  type: ObjectType | 'tag';
  content: Buffer;
}

const TYPES: Record<number, PackedObject['type']> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };
const OFS_DELTA = 6;
const REF_DELTA = 7;

/**
 * Every object of a packfile (gitformat-pack(5)) as it came over the wire from a fetch:
 * whole objects and deltas against objects earlier in the same pack (`ofs-delta`, or
 * `ref-delta` naming one in the pack), which is all a server may send a client that did
 * not ask for a thin pack. Checks the trailing checksum. Throws on anything else (a delta
 * against an object outside the pack, a damaged pack): the caller then lets git fetch.
 *
 * Meant for the few objects of a sync (a handful of commits, trees and blobs), read whole
 * into memory; large fetches are git's.
 */
export function readPack(pack: Buffer, algo: HashAlgo): PackedObject[] {
  const hashBytes = algo === 'sha1' ? 20 : 32;
  if (pack.length < 12 + hashBytes || pack.toString('latin1', 0, 4) !== 'PACK') throw new Error('not a packfile');
  const version = pack.readUInt32BE(4);
  if (version !== 2 && version !== 3) throw new Error(`pack version ${version}`);
  const count = pack.readUInt32BE(8);
  const end = pack.length - hashBytes;
  if (!Buffer.from(digest(algo, pack.subarray(0, end))).equals(pack.subarray(end))) throw new Error('pack checksum mismatch');
  const byOffset = new Map<number, PackedObject>();
  const byOid = new Map<string, PackedObject>();
  const out: PackedObject[] = [];
  let at = 12;
  for (let i = 0; i < count; i++) {
    const start = at;
    if (at >= end) throw new Error('truncated pack');
    let c = pack[at++]!;
    const code = (c >> 4) & 7;
    let size = c & 15;
    let shift = 4;
    while (c & 0x80) {
      c = pack[at++]!;
      size += (c & 0x7f) * 2 ** shift;
      shift += 7;
    }
    let base: PackedObject | undefined;
    if (code === OFS_DELTA) {
      c = pack[at++]!;
      let back = c & 0x7f;
      while (c & 0x80) {
        c = pack[at++]!;
        back = (back + 1) * 128 + (c & 0x7f);
      }
      base = byOffset.get(start - back);
      if (!base) throw new Error('ofs-delta base not in the pack');
    } else if (code === REF_DELTA) {
      const oid = pack.toString('hex', at, at + hashBytes);
      at += hashBytes;
      base = byOid.get(oid);
      if (!base) throw new Error('ref-delta base not in the pack');
    } else if (!TYPES[code]) throw new Error(`unknown object type ${code}`);
    const inflated = inflateSync(pack.subarray(at, end), { info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    at += inflated.engine.bytesWritten;
    const data = inflated.buffer;
    if (data.length !== size) throw new Error('object size mismatch');
    const type = base ? base.type : TYPES[code]!;
    const content = base ? applyDelta(base.content, data) : data;
    const obj: PackedObject = { oid: hexDigest(algo, `${type} ${content.length}\0`, content), type, content };
    byOffset.set(start, obj);
    byOid.set(obj.oid, obj);
    out.push(obj);
  }
  if (at !== end) throw new Error('trailing bytes in pack');
  return out;
}

/** A git delta (gitformat-pack(5), "Deltified representation") applied to its base. */
export function applyDelta(base: Buffer, delta: Buffer): Buffer {
  let at = 0;
  const varint = () => {
    let n = 0;
    let shift = 0;
    let c: number;
    do {
      c = delta[at++]!;
      n += (c & 0x7f) * 2 ** shift;
      shift += 7;
    } while (c & 0x80);
    return n;
  };
  if (varint() !== base.length) throw new Error('delta base size mismatch');
  const size = varint();
  const out = Buffer.alloc(size);
  let o = 0;
  while (at < delta.length) {
    const op = delta[at++]!;
    if (op & 0x80) {
      let offset = 0;
      let len = 0;
      for (let b = 0; b < 4; b++) if (op & (1 << b)) offset += delta[at++]! * 2 ** (8 * b);
      for (let b = 0; b < 3; b++) if (op & (0x10 << b)) len += delta[at++]! * 2 ** (8 * b);
      if (len === 0) len = 0x10000;
      if (offset + len > base.length || o + len > size) throw new Error('delta copy out of range');
      base.copy(out, o, offset, offset + len);
      o += len;
    } else if (op !== 0) {
      if (at + op > delta.length || o + op > size) throw new Error('delta insert out of range');
      delta.copy(out, o, at, at + op);
      at += op;
      o += op;
    } else throw new Error('reserved delta opcode');
  }
  if (o !== size) throw new Error('delta result size mismatch');
  return out;
}
