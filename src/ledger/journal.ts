import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RefUpdate } from './ref-updater.js';

/** Identity of a lock file git made: the same inode with the same change time is the same file. */
export interface LockIdentity {
  ino: string;
  ctimeNs: string;
}

/**
 * An intent record: written only once its writer holds every lock of the transaction and
 * has checked every expected value, so its existence is the commit point. Removed before
 * the writer releases any lock.
 *
 * - `files`: our own locks (they name `owner`); recovery rolls the whole transaction forward.
 * - `git`: the locks of the `git update-ref` process `gitPid` (they hold the new values, as
 *   git writes them); `locks` identifies each, so recovery touches no lock git did not make.
 */
export type JournalRecord =
  | { path: 'files'; owner: string; updates: RefUpdate[] }
  | {
      path: 'git';
      owner: string;
      gitPid: number;
      gitStart: string;
      updates: RefUpdate[];
      locks: Record<string, LockIdentity>;
      packedLock: LockIdentity | null;
    };

/**
 * The crash journal under `.git/gastown/`:
 * - `txn/<owner>.<n>.json`: intent records (see JournalRecord);
 * - `claims/<owner>`: a recoverer's claim on a dead owner's leftovers (a link of the
 *   recoverer's owner file, so it names who holds it). Made exclusively, so at most one
 *   live recoverer works on one dead owner.
 */
export class Journal {
  readonly txnDir: string;
  readonly claimsDir: string;
  private seq = 0;

  constructor(gastownDir: string) {
    this.txnDir = join(gastownDir, 'txn');
    this.claimsDir = join(gastownDir, 'claims');
  }

  /** Writes a record atomically (a complete file appears, or none). Returns its path. */
  write(record: JournalRecord): string {
    const file = join(this.txnDir, `${record.owner}.${this.seq++}.json`);
    const tmp = `${file}.tmp`;
    const text = JSON.stringify(record);
    try {
      writeFileSync(tmp, text);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      mkdirSync(this.txnDir, { recursive: true });
      writeFileSync(tmp, text);
    }
    renameSync(tmp, file);
    return file;
  }

  remove(file: string): void {
    unlinkQuietly(file);
  }

  /** Owners that have records or claims here, each with one of its files (by name; nothing is read). */
  owners(): Map<string, string> {
    const out = new Map<string, string>();
    for (const name of listDir(this.txnDir)) out.set(ownerOfRecordName(name), join(this.txnDir, name));
    for (const name of listDir(this.claimsDir)) if (!out.has(name)) out.set(name, join(this.claimsDir, name));
    return out;
  }

  /** The records of one owner; a record file that is not complete JSON (never renamed in) is skipped. */
  records(owner: string): { file: string; record: JournalRecord }[] {
    const out: { file: string; record: JournalRecord }[] = [];
    for (const name of listDir(this.txnDir)) {
      if (ownerOfRecordName(name) !== owner) continue;
      const file = join(this.txnDir, name);
      if (name.endsWith('.tmp')) {
        // Never renamed in: the writer died before its commit point. Nothing to finish.
        unlinkQuietly(file);
        continue;
      }
      try {
        out.push({ file, record: JSON.parse(readFileSync(file, 'utf8')) as JournalRecord });
      } catch {
        /* removed meanwhile by another recoverer */
      }
    }
    return out;
  }

  /** Claims held by `owner` (what it was recovering when it died, if it died). */
  claimsHeldBy(owner: string, readOwner: (file: string) => string | null | undefined): string[] {
    return listDir(this.claimsDir).filter((name) => readOwner(join(this.claimsDir, name)) === owner);
  }

  claimPath(owner: string): string {
    return join(this.claimsDir, owner);
  }

  /** Age of a file in ms (for owners on other hosts); Infinity when it is gone. */
  static ageOf(file: string): number {
    try {
      return Date.now() - statSync(file).mtimeMs;
    } catch {
      return Infinity;
    }
  }
}

/** `<owner>.<n>.json` or `<owner>.<n>.json.tmp` → `<owner>`; owner ids contain no `.json`. */
function ownerOfRecordName(name: string): string {
  const at = name.lastIndexOf('.', name.indexOf('.json') - 1);
  return at > 0 ? name.slice(0, at) : name;
}

export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export function unlinkQuietly(file: string): boolean {
  try {
    unlinkSync(file);
    return true;
  } catch {
    return false;
  }
}

export function isStaleFile(file: string, staleMs: number): boolean {
  try {
    return Date.now() - statSync(file).mtimeMs > staleMs;
  } catch {
    return false;
  }
}
