import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CACHE_VERSION = 2;

interface CachedValue {
  oid: string;
  value: unknown;
}

/**
 * A derived, throw-away copy of every entity of a kind, keyed by the commit id its ref
 * pointed at when read. Not state: git refs are the truth, and an entry is used only when
 * the ref still points at the same commit, so a stale or corrupt cache costs time, never
 * correctness. It is what lets `gt ready` over 10,000 beads read one file instead of
 * 10,000 objects. It holds only values that passed their kind's check (version 2; version
 * 1 files, written before reads were checked, are ignored).
 */
export class ListCache {
  constructor(private readonly dir: string) {}

  private file(prefix: string, kind: string): string {
    return join(this.dir, `${prefix.replace(/[^A-Za-z0-9]+/g, '_')}${kind}.json`);
  }

  load(prefix: string, kind: string): Map<string, CachedValue> {
    try {
      const parsed = JSON.parse(readFileSync(this.file(prefix, kind), 'utf8')) as { v: number; e: [string, string, unknown][] };
      if (parsed.v !== CACHE_VERSION || !Array.isArray(parsed.e)) return new Map();
      return new Map(parsed.e.map(([id, oid, value]) => [id, { oid, value }]));
    } catch {
      return new Map();
    }
  }

  save(prefix: string, kind: string, entries: { id: string; oid: string; value: unknown }[]): void {
    try {
      mkdirSync(this.dir, { recursive: true });
      const file = this.file(prefix, kind);
      const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
      writeFileSync(tmp, JSON.stringify({ v: CACHE_VERSION, e: entries.map((x) => [x.id, x.oid, x.value]) }));
      renameSync(tmp, file);
    } catch {
      // A cache that cannot be written only makes the next listing slower.
    }
  }

  /** Adds fresh entries to what is cached (bulk import primes the cache this way). */
  merge(prefix: string, kind: string, entries: { id: string; oid: string; value: unknown }[]): void {
    const current = this.load(prefix, kind);
    for (const e of entries) current.set(e.id, { oid: e.oid, value: e.value });
    this.save(
      prefix,
      kind,
      [...current].map(([id, v]) => ({ id, ...v })),
    );
  }
}
