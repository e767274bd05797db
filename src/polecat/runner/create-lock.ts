import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * A one-at-a-time lock for async work: in this process a promise chain, and across the
 * runner processes sharing a clone a lock file (`wx` create) in its git directory. A lock
 * file older than `staleMs` was left by a killed runner and is taken over.
 */
export function createLock(lockFile?: string, staleMs = 30_000): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  const acquire = async (): Promise<(() => Promise<void>) | null> => {
    if (!lockFile) return null;
    await mkdir(dirname(lockFile), { recursive: true });
    for (let i = 0; ; i++) {
      try {
        await writeFile(lockFile, String(process.pid), { flag: 'wx' });
        return () => rm(lockFile, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const age = await stat(lockFile).then((st) => Date.now() - st.mtimeMs, () => 0);
        // The clone is local, so its runners share this machine: a dead holder's pid says so at once.
        if (age > staleMs || (age > 200 && !alive(Number(await readFile(lockFile, 'utf8').catch(() => ''))))) await rm(lockFile, { force: true });
        else await new Promise((r) => setTimeout(r, 5 + Math.min(i, 10) * 3 + Math.random() * 10));
      }
    }
  };
  return <T>(fn: () => Promise<T>) => {
    const run = tail.then(async () => {
      const release = await acquire();
      try {
        return await fn();
      } finally {
        await release?.();
      }
    });
    tail = run.catch(() => undefined);
    return run;
  };
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
