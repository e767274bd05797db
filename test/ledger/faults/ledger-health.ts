import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { TEST_GIT_ENV } from '../../helpers/temp-repo.js';

/**
 * What the fault suite and `bench:faults` check after writers were killed: ref files that
 * are not a commit id (empty, cut short), lock files left, and what `git fsck` says.
 */
export function ledgerHealth(dir: string): { brokenRefs: string[]; locks: string[]; fsck: string[] } {
  const brokenRefs: string[] = [];
  const locks: string[] = [];
  const walk = (d: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.lock')) locks.push(p);
      else if (!/^[0-9a-f]{40}\n$/.test(readFileSync(p, 'utf8'))) brokenRefs.push(p);
    }
  };
  walk(join(dir, '.git', 'refs', 'gastown'));
  let fsck: string;
  try {
    fsck = execFileSync('git', ['fsck', '--no-dangling', '--no-progress'], { cwd: dir, env: TEST_GIT_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    fsck = `${err.stdout ?? ''}\n${err.stderr ?? ''}\nfsck failed`;
  }
  return { brokenRefs, locks, fsck: fsck.split('\n').filter((l) => /error|missing|broken|invalid|bad|failed/i.test(l)) };
}
