import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { walkRefFiles } from '../../../src/ledger/stale-locks.js';
import { TEST_GIT_ENV } from '../../helpers/temp-repo.js';

/**
 * What the fault suite and `bench:faults` check after writers were killed: ref files that
 * are not a commit id (empty, cut short), lock files left, and what `git fsck` says.
 */
export function ledgerHealth(dir: string): { brokenRefs: string[]; locks: string[]; fsck: string[] } {
  const brokenRefs: string[] = [];
  const locks: string[] = [];
  walkRefFiles(join(dir, '.git', 'refs', 'gastown'), '', (file, name) => {
    if (name.endsWith('.lock')) locks.push(file);
    else if (!/^[0-9a-f]{40}\n$/.test(readFileSync(file, 'utf8'))) brokenRefs.push(file);
  });
  let fsck: string;
  try {
    fsck = execFileSync('git', ['fsck', '--no-dangling', '--no-progress'], {
      cwd: dir,
      env: TEST_GIT_ENV,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    fsck = `${err.stdout ?? ''}\n${err.stderr ?? ''}\nfsck failed`;
  }
  return { brokenRefs, locks, fsck: fsck.split('\n').filter((l) => /error|missing|broken|invalid|bad|failed/i.test(l)) };
}
