import { hexDigest } from '../digest.js';
import { mkdirSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

export type ObjectType = 'blob' | 'tree' | 'commit';
export type HashAlgo = 'sha1' | 'sha256';

export interface Signature {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  time: number;
}

export interface CommitFields {
  tree: string;
  parents: string[];
  author: Signature;
  committer: Signature;
  message: string;
}

/**
 * Writes git objects straight into `.git/objects` as loose objects. This is what makes a
 * ledger append cost well under a millisecond: no `hash-object`/`mktree`/`commit-tree`
 * processes. Objects are content-addressed, so a write is idempotent and a crash leaves
 * at worst an unreachable object, which `git gc` collects.
 */
export class ObjectWriter {
  private counter = 0;

  constructor(
    private readonly objectsDir: string,
    private readonly algo: HashAlgo = 'sha1',
  ) {}

  hash(type: ObjectType, body: Buffer): string {
    return hexDigest(this.algo, `${type} ${body.length}\0`, body);
  }

  write(type: ObjectType, body: Buffer): string {
    const header = Buffer.from(`${type} ${body.length}\0`);
    const full = Buffer.concat([header, body]);
    const oid = hexDigest(this.algo, full);
    const dir = join(this.objectsDir, oid.slice(0, 2));
    const file = join(dir, oid.slice(2));
    if (existsSync(file)) return oid;
    // Write-then-rename so a reader never sees a half-written object.
    const tmp = join(dir, `tmp_obj_${process.pid}_${this.counter++}`);
    const data = deflateSync(full, { level: 1 });
    // The fan-out directory is made on first need, not checked before every write; `git gc`
    // (prune) removes empty ones at any moment, so one made here may be gone again at once.
    for (let tries = 0; ; tries++) {
      try {
        writeFileSync(tmp, data);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || tries >= 20) throw e;
        mkdirSync(dir, { recursive: true });
      }
    }
    renameSync(tmp, file);
    return oid;
  }

  writeBlob(content: string | Buffer): string {
    return this.write('blob', typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
  }

  /** A tree of regular files (mode 100644), sorted as git requires. */
  writeTree(entries: { name: string; oid: string }[]): string {
    return this.write('tree', treeBody(entries));
  }

  writeCommit(c: CommitFields): string {
    return this.write('commit', Buffer.from(encodeCommit(c), 'utf8'));
  }
}

export function treeBody(entries: { name: string; oid: string }[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const parts: Buffer[] = [];
  for (const e of sorted) parts.push(Buffer.from(`100644 ${e.name}\0`, 'utf8'), Buffer.from(e.oid, 'hex'));
  return Buffer.concat(parts);
}

function sig(s: Signature): string {
  const clean = (v: string) => v.replace(/[<>\n]/g, '');
  return `${clean(s.name)} <${clean(s.email)}> ${Math.floor(s.time)} +0000`;
}

export function encodeCommit(c: CommitFields): string {
  let out = `tree ${c.tree}\n`;
  for (const p of c.parents) out += `parent ${p}\n`;
  out += `author ${sig(c.author)}\ncommitter ${sig(c.committer)}\n\n${c.message}`;
  return out;
}

export interface ParsedCommit {
  tree: string;
  parents: string[];
  authorName: string;
  /** Committer time, seconds since the epoch. */
  time: number;
  message: string;
}

export function parseCommit(raw: Buffer | string): ParsedCommit {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  const split = text.indexOf('\n\n');
  const head = split < 0 ? text : text.slice(0, split);
  const message = split < 0 ? '' : text.slice(split + 2);
  let tree = '';
  const parents: string[] = [];
  let time = 0;
  let authorName = '';
  for (const line of head.split('\n')) {
    if (line.startsWith('tree ')) tree = line.slice(5);
    else if (line.startsWith('parent ')) parents.push(line.slice(7));
    else if (line.startsWith('author ')) authorName = line.slice(7, line.indexOf(' <'));
    else if (line.startsWith('committer ')) {
      const m = /> (\d+) [+-]\d{4}$/.exec(line);
      if (m) time = Number(m[1]);
    }
  }
  return { tree, parents, authorName, time, message };
}

/** One entry of a tree object: its mode as git writes it (`100644`, `40000`, `160000`...) and the object it names. */
export interface TreeEntry {
  mode: string;
  oid: string;
}

/**
 * The entries of a tree object's content (`<mode> <name>\0<raw id>`, repeated), or null when
 * it is not well formed. For the code that walks what a commit reaches (a push's objects, a
 * fetched pack's check, a copy from a local remote).
 */
export function parseTree(content: Buffer, hashBytes: number): TreeEntry[] | null {
  const out: TreeEntry[] = [];
  let at = 0;
  while (at < content.length) {
    const sp = content.indexOf(0x20, at);
    const nul = sp < 0 ? -1 : content.indexOf(0, sp);
    if (sp < 0 || nul < 0 || nul + 1 + hashBytes > content.length) return null;
    out.push({ mode: content.toString('latin1', at, sp), oid: content.toString('hex', nul + 1, nul + 1 + hashBytes) });
    at = nul + 1 + hashBytes;
  }
  return out;
}
