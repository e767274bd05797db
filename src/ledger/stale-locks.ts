import { readdirSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { readLockOwner } from './lock-owner.js';

export interface FoundLock {
  path: string;
  /** The owner id the lock names; null for a lock that names none (git's own). */
  owner: string | null;
  ageMs: number;
}

/**
 * Calls `visit` for every file under a ref directory, with the ref name relative to it
 * (`beads/gt-1a2b`, `beads/gt-1a2b.lock`); a directory that vanishes meanwhile (pack-refs
 * prunes empty ones) is skipped.
 */
export function walkRefFiles(dir: string, rel: string, visit: (file: string, name: string) => void): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const file = join(dir, e.name);
    if (e.isDirectory()) walkRefFiles(file, `${rel}${e.name}/`, visit);
    else if (e.isFile()) visit(file, `${rel}${e.name}`);
  }
}

/**
 * Lock files under the ledger's ref namespace (and `packed-refs.lock`) at least `minAgeMs`
 * old. Walks the ref directories, so it is for `gt doctor`, not for hot paths.
 */
export function findLocks(gitDir: string, prefix: string, minAgeMs: number): FoundLock[] {
  const found: FoundLock[] = [];
  const consider = (p: string) => {
    let ageMs: number;
    try {
      ageMs = Date.now() - statSync(p).mtimeMs;
    } catch {
      return;
    }
    const owner = readLockOwner(p);
    if (ageMs >= minAgeMs && owner !== undefined) found.push({ path: p, owner, ageMs });
  };
  walkRefFiles(join(gitDir, prefix), '', (file, name) => {
    if (name.endsWith('.lock')) consider(file);
  });
  consider(join(gitDir, 'packed-refs.lock'));
  return found;
}
