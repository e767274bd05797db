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
  const walk = (dir: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.lock')) consider(p);
    }
  };
  walk(join(gitDir, prefix));
  consider(join(gitDir, 'packed-refs.lock'));
  return found;
}
