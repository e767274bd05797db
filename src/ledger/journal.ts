import { hostname } from 'node:os';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { RefUpdate } from './ref-updater.js';

/**
 * Crash safety for multi-ref transactions. git makes a transaction atomic against other
 * writers (it locks every ref at `prepare`), but a writer killed half way through `commit`
 * can leave some refs renamed into place and others still locked. So before each
 * transaction we write an intent record; a later process that finds the record of a dead
 * writer rolls the transaction forward if it had reached its commit point (some ref already
 * at its new value), or discards it if not, and removes the dead writer's lock files.
 */
export interface JournalRecord {
  pid: number;
  host: string;
  at: number;
  updates: RefUpdate[];
}

export class Journal {
  private seq = 0;
  readonly dir: string;

  constructor(private readonly gitCommonDir: string) {
    this.dir = join(gitCommonDir, 'gastown', 'txn');
  }

  /** Records intent; returns a function that forgets it once the transaction is done. */
  begin(updates: RefUpdate[]): () => void {
    const name = `${process.pid}-${Date.now()}-${this.seq++}.json`;
    const file = join(this.dir, name);
    const record: JournalRecord = { pid: process.pid, host: hostname(), at: Date.now(), updates };
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify(record));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      mkdirSync(this.dir, { recursive: true }); // the first transaction of a rig
      writeFileSync(`${file}.tmp`, JSON.stringify(record));
    }
    renameSync(`${file}.tmp`, file);
    return () => {
      try {
        unlinkSync(file);
      } catch {
        /* already gone */
      }
    };
  }

  /** Records left by writers that are gone (dead pid on this host, or older than staleMs elsewhere). */
  orphans(staleMs: number): { file: string; record: JournalRecord }[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const out: { file: string; record: JournalRecord }[] = [];
    for (const name of names) {
      const file = join(this.dir, name);
      if (name.endsWith('.tmp')) {
        // A record never completed: its transaction never started.
        if (isStaleFile(file, staleMs) || deadOwner(name)) rmSync(file, { force: true });
        continue;
      }
      let record: JournalRecord;
      try {
        record = JSON.parse(readFileSync(file, 'utf8')) as JournalRecord;
      } catch {
        continue;
      }
      if (record.pid === process.pid && record.host === hostname()) continue;
      const gone = record.host === hostname() ? !pidAlive(record.pid) : Date.now() - record.at > staleMs;
      if (gone) out.push({ file, record });
    }
    return out;
  }

  /** True when a lock file belongs to a transaction of a writer that is gone. */
  lockOwnedByOrphan(lockPath: string, staleMs: number): boolean {
    return this.orphans(staleMs).some(({ record }) =>
      record.updates.some((u) => join(this.gitCommonDir, `${u.ref}.lock`) === lockPath),
    );
  }

  lockPathOf(ref: string): string {
    return join(this.gitCommonDir, `${ref}.lock`);
  }
}

function deadOwner(name: string): boolean {
  const pid = Number(name.split('-')[0]);
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && !pidAlive(pid);
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function isStaleFile(file: string, staleMs: number): boolean {
  try {
    return Date.now() - statSync(file).mtimeMs > staleMs;
  } catch {
    return false;
  }
}
