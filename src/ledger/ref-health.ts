import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ledger } from './ledger.js';
import { runGit } from './run-git.js';
import { walkRefFiles } from './stale-locks.js';
import { trackingPrefix } from './sync-ledger.js';

export interface BrokenRef {
  ref: string;
  /** What is wrong: the file is empty, holds no commit id, or names a missing object or not a commit. */
  problem: string;
  /** The ref file's text as found (what a repair compares before it writes); null for a packed ref. */
  raw: string | null;
}

export interface Repair {
  ref: string;
  /** The commit put back, or null when no earlier version was found. */
  oid: string | null;
  /** Where it came from: the reflog, the last synced copy, the list cache or the history. */
  source: string | null;
}

/**
 * Refs of the ledger that do not point at a commit: a ref file that is empty or cut short
 * (git ignores those, so `for-each-ref` never shows them), or one naming an object that is
 * missing or is not a commit. Walks the ref files: for `gt doctor`, not hot paths.
 */
export async function findBrokenRefs(ledger: Ledger): Promise<BrokenRef[]> {
  const broken: BrokenRef[] = [];
  const oidRe = new RegExp(`^[0-9a-f]{${ledger.zeroOid.length}}$`);
  walkRefFiles(join(ledger.gitDir, ledger.prefix), ledger.prefix, (file, ref) => {
    if (ref.endsWith('.lock')) return;
    const raw = readText(file);
    if (raw === null || raw.startsWith('ref: ')) return;
    const text = raw.trim();
    if (!oidRe.test(text)) broken.push({ ref, problem: text === '' ? 'the ref file is empty' : 'the ref file holds no commit id', raw });
  });
  const refs = [...(await ledger.refs(''))];
  for (let i = 0; i < refs.length; i += 500) {
    const chunk = refs.slice(i, i + 500);
    const types = await Promise.all(chunk.map(([, oid]) => ledger.objectType(oid)));
    types.forEach((type, j) => {
      const [ref, oid] = chunk[j]!;
      if (type === 'commit') return;
      broken.push({
        ref,
        problem: type === null ? `its commit ${oid.slice(0, 12)} is missing` : `it names a ${type}, not a commit`,
        raw: readText(join(ledger.gitDir, ref)),
      });
    });
  }
  return broken;
}

/**
 * Puts each broken ref back to its latest good version, taken in this order: the ref's
 * reflog (when git keeps one), the copy the last `gt sync` fetched, the list cache, and
 * the newest commit of the history that names the entity (`git fsck --unreachable`). A ref
 * for which none is found is left as it is and reported with `oid: null`.
 */
export async function repairBrokenRefs(ledger: Ledger, broken: BrokenRef[]): Promise<Repair[]> {
  let history: Map<string, string> | null = null;
  const out: Repair[] = [];
  for (const b of broken) {
    const [kind, ...rest] = b.ref.slice(ledger.prefix.length).split('/');
    const id = rest.join('/');
    const candidates: [string, () => Promise<string | null>][] = [
      ['reflog', () => fromReflog(ledger, b.ref)],
      ['last synced copy', () => readTracking(ledger, b.ref)],
      ['list cache', async () => ledger.cachedOid(kind ?? '', id)],
      [
        'history',
        async () => {
          history ??= await unreachableHistory(ledger);
          return history.get(`${kind}/${id}`) ?? null;
        },
      ],
    ];
    let done: Repair = { ref: b.ref, oid: null, source: null };
    for (const [source, find] of candidates) {
      const oid = await find();
      if (!oid || (await ledger.objectType(oid)) !== 'commit') continue;
      if (ledger.repairRef(b.ref, oid, b.raw)) done = { ref: b.ref, oid, source };
      break;
    }
    out.push(done);
  }
  return out;
}

async function fromReflog(ledger: Ledger, ref: string): Promise<string | null> {
  const text = readText(join(ledger.gitDir, 'logs', ref));
  if (!text) return null;
  const lines = text.trim().split('\n').reverse();
  for (const line of lines) {
    const oid = line.split(' ')[1];
    if (oid && oid !== ledger.zeroOid && (await ledger.objectType(oid)) === 'commit') return oid;
  }
  return null;
}

async function readTracking(ledger: Ledger, ref: string): Promise<string | null> {
  const tracked = `${trackingPrefix(ledger.prefix)}${ref.slice(ledger.prefix.length)}`;
  const { stdout, code } = await runGit(['rev-parse', '--verify', '--quiet', tracked], { cwd: ledger.repoDir, okCodes: [1, 128] });
  return code === 0 ? stdout.toString().trim() : null;
}

/** `<kind>/<id>` → the newest unreachable commit whose summary names it. */
async function unreachableHistory(ledger: Ledger): Promise<Map<string, string>> {
  const fsck = await runGit(['fsck', '--unreachable', '--no-reflogs', '--no-progress'], {
    cwd: ledger.repoDir,
    okCodes: [1, 2, 3, 4, 5, 6, 7, 8],
  });
  const oids = fsck.stdout
    .toString()
    .split('\n')
    .map((l) => /^unreachable commit ([0-9a-f]+)$/.exec(l)?.[1])
    .filter((x): x is string => !!x);
  const byEntity = new Map<string, { oid: string; time: number; parents: string[] }[]>();
  for (let i = 0; i < oids.length; i += 500) {
    const { stdout } = await runGit(['log', '--no-walk=unsorted', '--format=%H|%ct|%P|%s', ...oids.slice(i, i + 500), '--'], {
      cwd: ledger.repoDir,
    });
    for (const line of stdout.toString().split('\n')) {
      const m = /^([0-9a-f]+)\|(\d+)\|([0-9a-f ]*)\|.* ([a-z]+\/[A-Za-z0-9][A-Za-z0-9._-]*)$/.exec(line);
      if (!m) continue;
      const list = byEntity.get(m[4]!) ?? [];
      list.push({ oid: m[1]!, time: Number(m[2]), parents: m[3]!.split(' ').filter(Boolean) });
      byEntity.set(m[4]!, list);
    }
  }
  // The newest version: one no other candidate descends from (times tie within a second).
  const out = new Map<string, string>();
  for (const [entity, list] of byEntity) {
    const parents = new Set(list.flatMap((c) => c.parents));
    const tips = list.filter((c) => !parents.has(c.oid)).sort((a, b) => b.time - a.time || (a.oid < b.oid ? 1 : -1));
    if (tips[0]) out.set(entity, tips[0].oid);
  }
  return out;
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
