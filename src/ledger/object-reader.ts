import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import type { GitObject } from './cat-file.js';

const TYPES: Record<number, string> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };
const IDX_MAGIC = 0xff744f63; // "\377tOc": pack index version 2 and later

/**
 * Reads a git object straight from `.git/objects`: loose objects, and whole (undeltified)
 * objects in packs, which is every object the ledger writes itself. Returns null for
 * anything else (a delta, an object in an alternate store, a pack beyond 2 GiB), and the
 * ledger then asks `git cat-file`. A short command thus reads one bead without starting a
 * git process at all.
 */
export class ObjectReader {
  private packs: string[] | null = null;

  constructor(
    private readonly objectsDir: string,
    private readonly hashBytes: number,
  ) {}

  read(oid: string): GitObject | null {
    if (oid.length !== this.hashBytes * 2 || !/^[0-9a-f]+$/.test(oid)) return null; // not an object id: git decides
    return this.readLoose(oid) ?? this.readPacked(oid);
  }

  private readLoose(oid: string): GitObject | null {
    let raw: Buffer;
    try {
      raw = inflateSync(readFileSync(join(this.objectsDir, oid.slice(0, 2), oid.slice(2))));
    } catch {
      return null;
    }
    const nul = raw.indexOf(0);
    const [type, size] = raw.subarray(0, nul).toString('latin1').split(' ');
    const content = raw.subarray(nul + 1);
    if (!type || Number(size) !== content.length) return null;
    return { oid, type, content };
  }

  private readPacked(oid: string): GitObject | null {
    for (let pass = 0; pass < 2; pass++) {
      // A pack may have appeared (gc, an import) since the list was made: look once more.
      if (pass === 1 || this.packs === null) this.packs = this.listPacks();
      for (const base of this.packs) {
        const found = this.readFromPack(base, oid);
        if (found !== undefined) return found;
      }
    }
    return null;
  }

  private listPacks(): string[] {
    try {
      const dir = join(this.objectsDir, 'pack');
      return readdirSync(dir)
        .filter((n) => n.endsWith('.idx'))
        .map((n) => join(dir, n.slice(0, -4)));
    } catch {
      return [];
    }
  }

  /** The object from one pack: undefined when the pack does not hold it, null when it holds it in a form we leave to git. */
  private readFromPack(base: string, oid: string): GitObject | null | undefined {
    const want = Buffer.from(oid, 'hex');
    if (want.length !== this.hashBytes) return null;
    let idx: number;
    try {
      idx = openSync(`${base}.idx`, 'r');
    } catch {
      return undefined; // removed by a repack since we listed it
    }
    let offset: number;
    try {
      const head = readAt(idx, 0, 8 + 256 * 4);
      if (head.readUInt32BE(0) !== IDX_MAGIC || head.readUInt32BE(4) !== 2) return null;
      const fanout = (i: number) => head.readUInt32BE(8 + i * 4);
      const total = fanout(255);
      const lo = want[0]! === 0 ? 0 : fanout(want[0]! - 1);
      const hi = fanout(want[0]!);
      if (hi <= lo) return undefined;
      const namesAt = 8 + 256 * 4;
      const names = readAt(idx, namesAt + lo * this.hashBytes, (hi - lo) * this.hashBytes);
      let a = 0;
      let b = hi - lo;
      let pos = -1;
      while (a < b) {
        const mid = (a + b) >> 1;
        const cmp = names.compare(want, 0, this.hashBytes, mid * this.hashBytes, (mid + 1) * this.hashBytes);
        if (cmp === 0) {
          pos = lo + mid;
          break;
        }
        // `cmp` orders the entry at `mid` against the wanted id.
        if (cmp < 0) a = mid + 1;
        else b = mid;
      }
      if (pos < 0) return undefined;
      const offsetsAt = namesAt + total * this.hashBytes + total * 4;
      offset = readAt(idx, offsetsAt + pos * 4, 4).readUInt32BE(0);
      if (offset & 0x80000000) return null; // a 64-bit offset: a pack over 2 GiB
    } catch {
      return null; // a truncated or foreign index: git knows better
    } finally {
      closeSync(idx);
    }
    let pack: number;
    try {
      pack = openSync(`${base}.pack`, 'r');
    } catch {
      return null;
    }
    try {
      const packSize = fstatSync(pack).size;
      // Object header: type in bits 4-6 of the first byte, size in little-endian 7-bit groups.
      const head = readAt(pack, offset, Math.min(32, packSize - offset));
      let byte = head[0]!;
      const type = TYPES[(byte >> 4) & 7];
      if (!type) return null; // a delta
      let size = byte & 15;
      let shift = 4;
      let i = 1;
      while (byte & 0x80) {
        byte = head[i++]!;
        size += (byte & 0x7f) * 2 ** shift;
        shift += 7;
      }
      // Deflate never grows data by more than a few bytes per 16 KiB block.
      const room = Math.min(size + (size >> 10) + 64, packSize - offset - i);
      const content = inflateSync(readAt(pack, offset + i, room));
      if (content.length !== size) return null;
      return { oid, type, content };
    } catch {
      return null;
    } finally {
      closeSync(pack);
    }
  }
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got === length ? buf : buf.subarray(0, got);
}
