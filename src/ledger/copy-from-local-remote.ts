import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommit, parseTree, ObjectWriter, type ObjectType } from './git-objects.js';
import type { Ledger } from './ledger.js';
import { ObjectReader } from './object-reader.js';
import { isSortedPacked, lowerBound } from './sorted-packed-refs.js';

/** Beyond this many commits (or objects) to bring, `git fetch` does it (and checks it) better. */
const MAX_COMMITS = 64;
const MAX_OBJECTS = 512;

/**
 * What `git fetch` of a few named refs does, for a remote on this machine (`dir`, a bare
 * repository: local mode's shared remote): each ref's value read from the remote's ref
 * files, and the objects this repository lacks copied from the remote's object files into
 * its own, so a sync that takes one bead starts no process at all. That fetch (fetch,
 * upload-pack, pack-objects, unpack-objects and the connectivity check: five processes) was
 * most of such a sync.
 *
 * The same guarantees as the fetch: every object is written under the id its content hashes
 * to, and checked against the id that named it, so nothing the remote's files say can put a
 * wrong object here; and everything a returned value reaches is here before it is returned
 * (objects before refs). The walk from each value stops only at commits known complete here:
 * the `have` values the caller gives (its refs' values, reachable from its refs, so complete)
 * and what this call copied, never at a commit merely present (a killed fetch can leave one
 * whose tree is missing). In a scoped sync the remote moved on from the values this clone
 * holds (pushes are fast-forwards; heartbeats are parentless), so the walk meets a have at
 * once; a history that does not (rewritten) is copied whole or, past the limit, fetched. A
 * remote value that is already a have costs nothing.
 *
 * Null, and the caller runs `git fetch`, for anything it does not read: a ref store that is
 * not plain files or an unsorted packed-refs, an object it cannot read (a delta in a pack, an
 * alternate store), a gitlink, a hash that does not match, or more than 64 commits to bring.
 * A named ref its files do not show also goes to git (deletes are tombstones, so one gone
 * is a rewritten remote), as does a path that is not a bare repository.
 */
export async function copyFromLocalRemote(
  ledger: Ledger,
  dir: string,
  wanted: { ref: string; have: string | null }[],
): Promise<Map<string, string> | null> {
  const oidLength = ledger.zeroOid.length;
  // A bare repository's own files (a work tree's path keeps them under .git: git's to read).
  if (!existsSync(join(dir, 'objects')) || !existsSync(join(dir, 'HEAD'))) return null;
  const values = remoteValues(
    dir,
    wanted.map((w) => w.ref),
    oidLength,
  );
  // A named ref the files do not show is left to git too: whether it is gone is git's to say.
  if (!values || values.size !== new Set(wanted.map((w) => w.ref)).size) return null;
  const remote = new ObjectReader(join(dir, 'objects'), oidLength / 2);
  const writer = new ObjectWriter(join(ledger.gitDir, 'objects'), oidLength === 64 ? 'sha256' : 'sha1');
  // Complete here: reachable from this repository's refs (the haves are their values).
  const complete = new Set(wanted.map((w) => w.have).filter((h): h is string => !!h));
  const written = { commits: 0, objects: 0 };
  /** Copies one object (and, for a tree, what it holds); false when it cannot. */
  const copy = (oid: string, expect: ObjectType): boolean => {
    if (++written.objects > MAX_OBJECTS) return false;
    const obj = remote.read(oid);
    if (!obj || obj.type !== expect) return false;
    if (expect === 'tree' && !copyTree(obj.content)) return false;
    return writer.write(expect, obj.content) === oid;
  };
  const copyTree = (body: Buffer): boolean => {
    const entries = parseTree(body, oidLength / 2);
    if (!entries) return false;
    for (const { mode, oid } of entries) {
      if (mode === '40000') {
        if (!copy(oid, 'tree')) return false;
      } else if (mode === '160000') return false;
      else if (!copy(oid, 'blob')) return false;
    }
    return true;
  };
  const out = new Map<string, string>();
  for (const { ref } of wanted) {
    const tip = values.get(ref);
    if (!tip) continue;
    out.set(ref, tip);
    // Collected newest first; written oldest first below, each after everything it reaches.
    const toWrite: { oid: string; content: Buffer }[] = [];
    const queued = new Set<string>();
    let frontier = [tip];
    while (frontier.length) {
      const next: string[] = [];
      for (const oid of frontier) {
        if (complete.has(oid) || queued.has(oid)) continue;
        if (++written.commits > MAX_COMMITS) return null;
        const obj = remote.read(oid);
        if (!obj || obj.type !== 'commit') return null;
        const c = parseCommit(obj.content);
        if (!copy(c.tree, 'tree')) return null;
        queued.add(oid);
        toWrite.push({ oid, content: obj.content });
        next.push(...c.parents);
      }
      frontier = next;
    }
    // Oldest first: a crash between two writes leaves only commits whose parents are here.
    for (const { oid, content } of toWrite.reverse()) if (writer.write('commit', content) !== oid) return null;
    for (const { oid } of toWrite) complete.add(oid);
  }
  return out;
}

/**
 * The remote's value of each ref from its ref files (a loose file, else its line in a
 * sorted packed-refs, found by binary search); a ref it does not hold is left out. Null
 * when the files cannot tell.
 */
function remoteValues(dir: string, refs: string[], oidLength: number): Map<string, string> | null {
  const out = new Map<string, string>();
  let packed: Buffer | null | undefined;
  for (const ref of refs) {
    let text: string | null = null;
    try {
      text = readFileSync(join(dir, ref), 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return null;
    }
    if (text !== null) {
      const oid = text.trim();
      if (oid.length !== oidLength || !/^[0-9a-f]+$/.test(oid)) return null; // symbolic or damaged
      out.set(ref, oid);
      continue;
    }
    if (packed === undefined) {
      try {
        packed = readFileSync(join(dir, 'packed-refs'));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return null;
        packed = null;
      }
      if (packed && !isSortedPacked(packed)) return null;
    }
    if (!packed) continue;
    const at = lowerBound(packed, ref, oidLength);
    const end = packed.indexOf(0x0a, at);
    const line = packed.toString('latin1', at, end < 0 ? packed.length : end);
    if (line.slice(oidLength + 1) === ref) out.set(ref, line.slice(0, oidLength));
  }
  return out;
}
