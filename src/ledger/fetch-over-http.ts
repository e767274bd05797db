import { parseCommit, parseTree } from './git-objects.js';
import type { Ledger } from './ledger.js';
import { readPack, type PackedObject } from './read-pack.js';
import type { SmartHttp } from './smart-http.js';

/** More objects than this at once are git's to fetch (one pack read whole in memory is for a sync's few). */
const MAX_WANTS = 256;

/**
 * Brings the objects `wants` name (and everything they reach that `haves` do not) into the
 * ledger's store over smart HTTP, in-process (smart-http.ts), as loose objects, as git's
 * own fetch does for a small pack. True when every want is here now; false when git must
 * fetch them instead: the server would not say, the pack could not be read, or it is not
 * whole. Nothing half-done matters: objects are content-addressed, and none is written
 * before the pack has been checked.
 *
 * The check stands in for git's connectivity check (the `rev-list` a fetch runs): every
 * object the pack's commits and trees name is in the pack or already in the store, so no
 * ref this sync points at one of the wanted commits can name a missing object.
 */
export async function fetchObjectsOverHttp(
  ledger: Ledger,
  http: SmartHttp,
  remote: string,
  wants: string[],
  haves: string[],
): Promise<boolean> {
  const missing: string[] = [];
  for (const oid of new Set(wants)) if (!(await present(ledger, oid))) missing.push(oid);
  if (missing.length === 0) return true;
  if (missing.length > MAX_WANTS) return false;
  const pack = await http.fetchPack(remote, missing, [...new Set(haves)]);
  if (!pack) return false;
  let objects: PackedObject[];
  try {
    objects = readPack(pack, ledger.hashAlgo);
  } catch {
    return false;
  }
  const inPack = new Set(objects.map((o) => o.oid));
  if (missing.some((oid) => !inPack.has(oid))) return false;
  const named = new Set<string>();
  for (const o of objects) {
    const refs = references(o, ledger.zeroOid.length / 2);
    if (!refs) return false;
    for (const oid of refs) if (!inPack.has(oid)) named.add(oid);
  }
  for (const oid of named) if (!(await present(ledger, oid))) return false;
  for (const o of objects) ledger.writeObject(o.type as 'blob' | 'tree' | 'commit', o.content);
  return true;
}

async function present(ledger: Ledger, oid: string): Promise<boolean> {
  return (await ledger.objectType(oid)) !== null;
}

/** The objects one object names (a commit's tree and parents, a tree's entries), or null for a kind the ledger never holds. */
function references(o: PackedObject, hashBytes: number): string[] | null {
  if (o.type === 'blob') return [];
  if (o.type === 'commit') {
    const c = parseCommit(o.content);
    return c.tree ? [c.tree, ...c.parents] : null;
  }
  if (o.type === 'tree') {
    // A submodule's commit lives in another repository.
    return (
      parseTree(o.content, hashBytes)
        ?.filter((e) => e.mode !== '160000')
        .map((e) => e.oid) ?? null
    );
  }
  return null;
}
