import { parseCommit, parseTree, type ObjectType } from './git-objects.js';
import type { Ledger } from './ledger.js';
import { packBytes } from './pack-writer.js';
import type { PushReport, RefCommand, SmartHttp } from './smart-http.js';

/** More objects than this are git's to push (its pack-objects finds deltas; this sends whole objects). */
const MAX_OBJECTS = 512;

/**
 * Pushes ref updates over smart HTTP in-process (smart-http.ts `receivePack`): each a
 * compare-and-swap from the value the remote is known to hold, all in one atomic push when
 * `atomic`, with a pack of the objects the new values reach that the remote does not hold.
 * The remote's report, or null when git must push instead (too many objects, an object
 * missing here, a server that cannot be spoken to); nothing has moved on the remote then.
 *
 * What the remote holds is told from `remoteHas` (the values its refs had when this sync
 * read them, the old values of the commands among them): the walk from each new value stops
 * there. A commit the remote holds under another name is sent again, which costs bytes, not
 * correctness.
 */
export async function pushOverHttp(
  ledger: Ledger,
  http: SmartHttp,
  remote: string,
  commands: RefCommand[],
  remoteHas: Iterable<string>,
  atomic: boolean,
): Promise<PushReport | null> {
  const stop = new Set(remoteHas);
  for (const c of commands) if (c.old) stop.add(c.old);
  const tips = commands.map((c) => c.new).filter((oid): oid is string => !!oid);
  const objects = await objectsToSend(ledger, tips, stop);
  if (!objects) return null;
  const pack = tips.length ? packBytes(objects, ledger.hashAlgo) : null;
  return http.receivePack(remote, commands, pack, ledger.zeroOid, atomic);
}

/** The commits from `tips` back to the first one in `stop`, with their trees and blobs; null past MAX_OBJECTS or for anything unreadable. */
async function objectsToSend(ledger: Ledger, tips: string[], stop: Set<string>): Promise<{ type: ObjectType; content: Buffer }[] | null> {
  const out: { type: ObjectType; content: Buffer }[] = [];
  const seen = new Set<string>();
  const add = async (oid: string, want: ObjectType): Promise<Buffer | null> => {
    if (seen.has(oid)) return Buffer.alloc(0);
    seen.add(oid);
    const obj = await ledger.readObject(oid);
    if (!obj || obj.type !== want || out.length >= MAX_OBJECTS) return null;
    out.push({ type: want, content: obj.content });
    return obj.content;
  };
  // What the remote's own commits hold needs no sending: the trees (and their entries) of
  // the commits the walk stops at, one level deep, as ledger trees are.
  const remoteTrees = new Set<string>();
  const noteRemote = async (oid: string) => {
    const c = await ledger.readObject(oid);
    if (c?.type !== 'commit') return;
    const { tree } = parseCommit(c.content);
    if (!tree || remoteTrees.has(tree)) return;
    remoteTrees.add(tree);
    const t = await ledger.readObject(tree);
    if (t?.type === 'tree') for (const e of parseTree(t.content, ledger.zeroOid.length / 2) ?? []) remoteTrees.add(e.oid);
  };
  const commits = [...tips];
  while (commits.length) {
    const oid = commits.pop()!;
    if (stop.has(oid) || seen.has(oid)) continue;
    const content = await add(oid, 'commit');
    if (!content) return null;
    const { tree, parents } = parseCommit(content);
    if (!tree) return null;
    for (const p of parents) {
      if (stop.has(p)) await noteRemote(p);
      else commits.push(p);
    }
    if (!(await addTree(tree))) return null;
  }
  return out;

  async function addTree(oid: string): Promise<boolean> {
    if (remoteTrees.has(oid) || seen.has(oid)) return true;
    const content = await add(oid, 'tree');
    if (!content) return false;
    const entries = parseTree(content, ledger.zeroOid.length / 2);
    if (!entries) return false;
    for (const e of entries) {
      if (remoteTrees.has(e.oid) || seen.has(e.oid)) continue;
      if (e.mode === '40000') {
        if (!(await addTree(e.oid))) return false;
      } else if (e.mode === '160000') continue;
      else if (!(await add(e.oid, 'blob'))) return false;
    }
    return true;
  }
}
