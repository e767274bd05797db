import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ledger } from './ledger.js';
import { gitEnv } from './run-git.js';

export interface SideRepo {
  dir: string;
  /** For git commands run in it (with the ledger's work tree as cwd, so relative remote paths hold). */
  env: NodeJS.ProcessEnv;
  dispose(): void;
}

/**
 * A throwaway repository that shares the ledger repository's object store and holds only
 * the refs given: sync fetches and pushes from it. git's fetch and push cost time in the
 * number of local refs whatever they move (fetch marks every local ref's commit complete
 * and checks connectivity against all of them; push matches each refspec against every
 * local ref), so with 10,000 beads and their tracking refs, moving one bead cost as much as
 * moving all of them. Here they cost what they move.
 *
 * It reads the ledger repository's config through an include, so remote names, credential
 * helpers and URL rewrites work as there; garbage collection is off (it would take the
 * shared store for unreferenced). The object format is repeated because git reads it
 * before following includes.
 */
export function sideRepo(ledger: Ledger, refs: Map<string, string>): SideRepo {
  const root = join(ledger.gitDir, 'gastown', 'side');
  mkdirSync(root, { recursive: true });
  removeAbandoned(root);
  const dir = mkdtempSync(join(root, 's-'));
  try {
    mkdirSync(join(dir, 'objects'));
    mkdirSync(join(dir, 'refs'));
    writeFileSync(join(dir, 'HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(dir, 'config'), sideConfig(join(ledger.gitDir, 'config'), ledger.zeroOid.length === 64));
    writeFileSync(join(dir, 'packed-refs'), packedRefs(refs));
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    dir,
    env: gitEnv({ GIT_DIR: dir, GIT_OBJECT_DIRECTORY: join(ledger.gitDir, 'objects') }),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A side repository kept under `name` across runs, for a fetch that every sync makes (the
 * writers' summaries): creating and removing a throwaway one cost more than that fetch on a
 * busy disk. One user at a time, by an exclusive lock file; when another process holds it,
 * or holds a lock a minute old (killed), this one uses a throwaway repository instead.
 * Its refs are set to `refs` (packed) before each use; refs the last fetch left are the
 * caller's to prune (`git fetch --prune`).
 */
export function keptSideRepo(ledger: Ledger, name: string, refs: Map<string, string>): SideRepo {
  const root = join(ledger.gitDir, 'gastown', 'side');
  const dir = join(root, `kept-${name}`);
  const lock = `${dir}.lock`;
  try {
    mkdirSync(root, { recursive: true });
    closeSync(openSync(lock, 'wx'));
  } catch {
    try {
      if (Date.now() - statSync(lock).mtimeMs > 60_000) rmSync(lock, { force: true });
    } catch {
      /* gone meanwhile */
    }
    return sideRepo(ledger, refs);
  }
  try {
    if (!existsSync(join(dir, 'config'))) {
      mkdirSync(join(dir, 'objects'), { recursive: true });
      mkdirSync(join(dir, 'refs'), { recursive: true });
      writeFileSync(join(dir, 'HEAD'), 'ref: refs/heads/main\n');
      writeFileSync(join(dir, 'config'), sideConfig(join(ledger.gitDir, 'config'), ledger.zeroOid.length === 64));
    }
    writeFileSync(join(dir, 'packed-refs'), packedRefs(refs));
  } catch (e) {
    rmSync(lock, { force: true });
    throw e;
  }
  return {
    dir,
    env: gitEnv({ GIT_DIR: dir, GIT_OBJECT_DIRECTORY: join(ledger.gitDir, 'objects') }),
    dispose: () => rmSync(lock, { force: true }),
  };
}

function packedRefs(refs: Map<string, string>): string {
  const lines = [...refs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([ref, oid]) => `${oid} ${ref}\n`);
  return `# pack-refs with: peeled fully-peeled sorted \n${lines.join('')}`;
}

/** A side repository is gone within seconds; one an hour old was left by a killed process. */
const ABANDONED_MS = 60 * 60 * 1000;

function removeAbandoned(root: string): void {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  const now = Date.now();
  for (const name of names) {
    if (name.startsWith('kept-')) continue; // reused, not abandoned (its lock is aged by keptSideRepo)
    const path = join(root, name);
    try {
      if (now - statSync(path).mtimeMs > ABANDONED_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      /* removed by another process meanwhile */
    }
  }
}

/** Options for every git command run in a side repository: never any maintenance. */
export const SIDE_GIT = ['-c', 'gc.auto=0', '-c', 'maintenance.auto=false'];

function sideConfig(mainConfig: string, sha256: boolean): string {
  const quoted = `"${mainConfig.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return [
    '[include]',
    `\tpath = ${quoted}`,
    '[core]',
    `\trepositoryformatversion = ${sha256 ? 1 : 0}`,
    '\tbare = true',
    '\tlogAllRefUpdates = false',
    ...(sha256 ? ['[extensions]', '\tobjectformat = sha256'] : []),
    '[gc]',
    '\tauto = 0',
    '\tpruneExpire = never',
    '[maintenance]',
    '\tauto = false',
    '[fetch]',
    '\twriteCommitGraph = false',
    '\tprune = false',
    '',
  ].join('\n');
}
