import { digest } from '../digest.js';
import { mkdirSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import type { HashAlgo, ObjectType } from './git-objects.js';

const TYPE_CODES: Record<ObjectType, number> = { commit: 1, tree: 2, blob: 3 };

/**
 * Writes many objects as one packfile plus its version-2 index, in-process. A bulk import
 * of 10,000 beads is 30,000 objects: as loose files that is 30,000 file creations; as a
 * pack it is two files. Objects are content-addressed, so a pack that duplicates loose
 * objects is harmless, and a crash before the index is renamed into place leaves only a
 * temporary file (git ignores a pack without an index).
 */
export class PackWriter {
  private readonly entries: { oid: Buffer; data: Buffer }[] = [];
  private readonly seen = new Set<string>();

  constructor(
    private readonly objectsDir: string,
    private readonly algo: HashAlgo = 'sha1',
  ) {}

  get size(): number {
    return this.entries.length;
  }

  add(type: ObjectType, body: Buffer): string {
    const oid = Buffer.from(digest(this.algo, `${type} ${body.length}\0`, body));
    const hex = oid.toString('hex');
    if (this.seen.has(hex)) return hex;
    this.seen.add(hex);
    this.entries.push({ oid, data: Buffer.concat([entryHeader(TYPE_CODES[type], body.length), storedZlib(body)]) });
    return hex;
  }

  /** Writes the pack and its index; returns the pack's name (its checksum) or null when empty. */
  finish(): string | null {
    if (this.entries.length === 0) return null;
    const header = Buffer.alloc(12);
    header.write('PACK', 0, 'latin1');
    header.writeUInt32BE(2, 4);
    header.writeUInt32BE(this.entries.length, 8);
    const offsets: number[] = [];
    let offset = 12;
    for (const e of this.entries) {
      offsets.push(offset);
      offset += e.data.length;
    }
    if (offset >= 0x80000000) throw new Error('pack too large for 32-bit offsets');
    const body = Buffer.concat([header, ...this.entries.map((e) => e.data)]);
    const packSum = Buffer.from(digest(this.algo, body));
    const pack = Buffer.concat([body, packSum]);

    const order = this.entries.map((_, i) => i).sort((a, b) => Buffer.compare(this.entries[a]!.oid, this.entries[b]!.oid));
    const hashLen = packSum.length;
    const fanout = Buffer.alloc(256 * 4);
    const counts = new Array<number>(256).fill(0);
    for (const e of this.entries) counts[e.oid[0]!]!++;
    let running = 0;
    for (let i = 0; i < 256; i++) {
      running += counts[i]!;
      fanout.writeUInt32BE(running, i * 4);
    }
    const names = Buffer.alloc(order.length * hashLen);
    const crcs = Buffer.alloc(order.length * 4);
    const offs = Buffer.alloc(order.length * 4);
    order.forEach((idx, i) => {
      const e = this.entries[idx]!;
      e.oid.copy(names, i * hashLen);
      crcs.writeUInt32BE(zlibCrc32(e.data), i * 4);
      offs.writeUInt32BE(offsets[idx]!, i * 4);
    });
    const idxHead = Buffer.from([0xff, 0x74, 0x4f, 0x63, 0, 0, 0, 2]);
    const idxBody = Buffer.concat([idxHead, fanout, names, crcs, offs, packSum]);
    const idx = Buffer.concat([idxBody, Buffer.from(digest(this.algo, idxBody))]);

    const dir = join(this.objectsDir, 'pack');
    mkdirSync(dir, { recursive: true });
    const name = packSum.toString('hex');
    const base = join(dir, `pack-${name}`);
    if (existsSync(`${base}.idx`)) return name;
    const tmp = join(dir, `tmp_gastown_${process.pid}_${Date.now()}`);
    writeFileSync(`${tmp}.pack`, pack);
    writeFileSync(`${tmp}.idx`, idx);
    // The pack first: git finds packs through their index, which must never name a missing pack.
    renameSync(`${tmp}.pack`, `${base}.pack`);
    renameSync(`${tmp}.idx`, `${base}.idx`);
    return name;
  }
}

/**
 * A packfile of whole objects, in memory, for the wire (a push: ledger/push-over-http.ts).
 * No index: the receiving side indexes what it gets.
 */
export function packBytes(objects: { type: ObjectType; content: Buffer }[], algo: HashAlgo): Buffer {
  const header = Buffer.alloc(12);
  header.write('PACK', 0, 'latin1');
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(objects.length, 8);
  const body = Buffer.concat([
    header,
    ...objects.flatMap((o) => [entryHeader(TYPE_CODES[o.type], o.content.length), storedZlib(o.content)]),
  ]);
  return Buffer.concat([body, Buffer.from(digest(algo, body))]);
}

function entryHeader(type: number, size: number): Buffer {
  const bytes: number[] = [];
  let b = (type << 4) | (size & 0x0f);
  size = Math.floor(size / 16);
  while (size > 0) {
    bytes.push(b | 0x80);
    b = size & 0x7f;
    size = Math.floor(size / 128);
  }
  bytes.push(b);
  return Buffer.from(bytes);
}

/**
 * `body` as a zlib stream of stored (uncompressed) deflate blocks, which git reads like any
 * other. Compressing 30,000 small objects of a 10,000-bead import one `deflateSync` each was
 * the largest part of its CPU time (a new zlib handle per call); the pack is about twice
 * the size until `git gc` repacks it, which it does with its own compression.
 */
export function storedZlib(body: Buffer): Buffer {
  const blocks = Math.max(1, Math.ceil(body.length / 0xffff));
  const out = Buffer.allocUnsafe(2 + blocks * 5 + body.length + 4);
  out[0] = 0x78; // deflate, 32 KB window
  out[1] = 0x01; // no dictionary, fastest; (0x78 << 8 | 0x01) % 31 === 0
  let at = 2;
  for (let i = 0; i < blocks; i++) {
    const start = i * 0xffff;
    const len = Math.min(0xffff, body.length - start);
    out[at] = i === blocks - 1 ? 1 : 0; // BFINAL on the last, BTYPE 00 (stored)
    out.writeUInt16LE(len, at + 1);
    out.writeUInt16LE(~len & 0xffff, at + 3);
    body.copy(out, at + 5, start, start + len);
    at += 5 + len;
  }
  out.writeUInt32BE(adler32(body), at);
  return out;
}

function adler32(buf: Buffer): number {
  let a = 1;
  let b = 0;
  // 5552 bytes is the most that can be summed before the sums must be reduced (zlib's NMAX).
  for (let i = 0; i < buf.length; ) {
    const end = Math.min(buf.length, i + 5552);
    for (; i < end; i++) {
      a += buf[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
