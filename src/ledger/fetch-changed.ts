import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { GastownError } from '../errors.js';
import type { Ledger } from './ledger.js';
import { listRefFiles } from './list-ref-files.js';
import { redact, runGit } from './run-git.js';
import { keptSideRepo, SIDE_GIT, sideRepo, type SideRepo } from './side-repo.js';
import { fetchObjectsOverHttp } from './fetch-over-http.js';
import { SmartHttp } from './smart-http.js';

/**
 * The remote's ledger refs and their values, from its ref advertisement alone (`git
 * ls-remote`: no negotiation, no objects). Sync compares them with what it holds and
 * fetches only the refs that differ; when none does, a sync costs this one round trip.
 */
export async function advertisedRefs(ledger: Ledger, remote: string, http?: SmartHttp): Promise<Map<string, string>> {
  if (http && SmartHttp.speaks(remote)) {
    // In-process (smart-http.ts): one request, and only the ledger's refs, not every branch.
    const refs = await http.lsRefs(remote, [ledger.prefix]);
    if (refs && [...refs.values()].every((oid) => oid.length === ledger.zeroOid.length)) return refs;
  }
  const { stdout } = await runGit(['ls-remote', '--refs', remote], { cwd: ledger.repoDir }).catch((e: unknown) => {
    throw new GastownError('gastown_sync', `cannot fetch the ledger from ${redact(remote)}`, undefined, { cause: e });
  });
  const out = new Map<string, string>();
  for (const line of stdout.toString('utf8').split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const ref = line.slice(tab + 1);
    if (ref.startsWith(ledger.prefix)) out.set(ref, line.slice(0, tab));
  }
  return out;
}

/** Above this many refs one wildcard refspec is cheaper for git than naming each. */
const NAMED_REFS_MAX = 256;

/**
 * Fetches the objects of the given ledger refs and returns the values fetched (a ref the
 * remote no longer has is left out). `have` is the value each ref has here, if any: the
 * remote sends only what lies beyond it.
 *
 * The fetch runs in a side repository (side-repo.ts) holding no refs but those `have`
 * values, so it costs what changed, not the number of refs here. The objects land in the
 * ledger's store; the caller points refs at them.
 */
export async function fetchRefs(
  ledger: Ledger,
  remote: string,
  wanted: { ref: string; have: string | null }[],
  http?: SmartHttp,
): Promise<Map<string, string>> {
  const overHttp = http && SmartHttp.speaks(remote) ? await refsOverHttp(ledger, http, remote, wanted) : null;
  if (overHttp) return overHttp;
  const haves = [...new Set(wanted.map((w) => w.have).filter((h): h is string => !!h))];
  const haveRefs = new Map(haves.map((oid, i) => [`refs/have/${i}`, oid]));
  const named = wanted.length <= NAMED_REFS_MAX;
  // A few refs by name (the usual sync) in a side repository kept for it; the fetched refs
  // are removed after reading, so it stays small. Everything at once in a throwaway one.
  let side = named ? keptSideRepo(ledger, 'refs', haveRefs) : sideRepo(ledger, haveRefs);
  try {
    const all = [`+${ledger.prefix}*:${gotRef(ledger.prefix)}*`];
    const fetch = (refspecs: string[]) =>
      runGit([...SIDE_GIT, 'fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--no-recurse-submodules', remote, ...refspecs], {
        cwd: ledger.repoDir,
        env: side.env,
      });
    try {
      await fetch(named ? wanted.map((w) => `+${w.ref}:${gotRef(w.ref)}`) : all);
    } catch (e) {
      // A named ref gone from the remote since its advertisement fails the whole fetch.
      if (!named) throw fetchError(remote, e);
      side.dispose();
      side = sideRepo(ledger, haveRefs);
      await fetch(all).catch((e2: unknown) => {
        throw fetchError(remote, e2);
      });
    }
    const got = listRefFiles(side.dir, 'refs/got/', ledger.zeroOid.length) ?? (await listWithGit(side, ledger));
    const out = new Map<string, string>();
    const want = new Set(wanted.map((w) => w.ref));
    for (const [ref, oid] of got) {
      const name = `refs/${ref.slice('refs/got/'.length)}`;
      if (want.has(name)) out.set(name, oid);
    }
    // Read: gone, so the kept repository holds only what its next fetch brings (a ref left by a
    // killed sync is not wanted then, or is fetched anew over it).
    for (const ref of got.keys()) rmSync(join(side.dir, ref), { force: true });
    return out;
  } finally {
    side.dispose();
  }
}

function gotRef(ref: string): string {
  return `refs/got/${ref.slice('refs/'.length)}`;
}

function fetchError(remote: string, cause: unknown): GastownError {
  return new GastownError('gastown_sync', `cannot fetch the ledger from ${redact(remote)}`, undefined, { cause });
}

async function listWithGit(side: SideRepo, ledger: Ledger): Promise<Map<string, string>> {
  const { stdout } = await runGit(['for-each-ref', '--format=%(objectname) %(refname)', 'refs/got/'], {
    cwd: ledger.repoDir,
    env: side.env,
  });
  const map = new Map<string, string>();
  for (const line of stdout.toString('utf8').split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0) map.set(line.slice(sp + 1), line.slice(0, sp));
  }
  return map;
}

/**
 * `fetchRefs` over smart HTTP in-process (smart-http.ts): the wanted refs' values from one
 * `ls-refs` request (by name, or the whole prefix for many), their objects from one `fetch`
 * request. Null when git must do it.
 */
async function refsOverHttp(
  ledger: Ledger,
  http: SmartHttp,
  remote: string,
  wanted: { ref: string; have: string | null }[],
): Promise<Map<string, string> | null> {
  const listed = await http.lsRefs(remote, wanted.length <= NAMED_REFS_MAX ? wanted.map((w) => w.ref) : [ledger.prefix]);
  if (!listed) return null;
  // A ref prefix also matches longer names (`gt-1` matches `gt-10`): only the wanted ones.
  const out = new Map<string, string>();
  for (const { ref } of wanted) {
    const oid = listed.get(ref);
    if (oid === undefined) continue;
    if (oid.length !== ledger.zeroOid.length) return null;
    out.set(ref, oid);
  }
  const haves = wanted.map((w) => w.have).filter((h): h is string => !!h);
  if (out.size && !(await fetchObjectsOverHttp(ledger, http, remote, [...out.values()], haves))) return null;
  return out;
}
