import { existsSync, readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { isStaleFile } from './journal.js';

/**
 * Lock files under the ledger's ref namespace (and `packed-refs.lock`) older than
 * `staleMs`: what a writer killed outside a journalled transaction can leave behind.
 * Walks the ref directories, so it is for `gt doctor`, not for hot paths.
 */
export function findStaleLocks(gitDir: string, prefix: string, staleMs: number): string[] {
  const found: string[] = [];
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
      else if (e.name.endsWith('.lock') && isStaleFile(p, staleMs)) found.push(p);
    }
  };
  walk(join(gitDir, prefix));
  const packed = join(gitDir, 'packed-refs.lock');
  if (existsSync(packed) && isStaleFile(packed, staleMs)) found.push(packed);
  return found;
}
