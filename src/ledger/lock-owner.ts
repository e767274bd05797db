import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Who holds a lock. Every lock, claim and intent record the ledger makes carries the id of
 * the process that made it, so a recoverer can prove that a lock is a dead writer's before
 * it removes it (the one thing that must never happen is removing a live writer's lock).
 *
 * An id is `<pid>.<start>.<nonce>@<host>`: the start time (clock ticks since boot, from
 * /proc) tells a dead process from a later one that reuses its pid; the nonce tells two
 * ledgers opened in one process apart.
 */
export interface Owner {
  pid: number;
  /** Process start time from /proc/<pid>/stat, or '-' where there is no /proc. */
  start: string;
  nonce: string;
  host: string;
}

const HOST =
  hostname()
    .replace(/[^A-Za-z0-9.-]/g, '_')
    .slice(0, 64) || 'host';
const OWNER_RE = /^(\d+)\.([0-9-]+)\.([0-9a-z]+)@([A-Za-z0-9._-]+)$/;
/** The content of every lock file we create: a magic word, then the owner id. */
const LOCK_MAGIC = 'gastown-lock ';

let selfStart: string | null = null;

export function ownerId(o: Owner): string {
  return `${o.pid}.${o.start}.${o.nonce}@${o.host}`;
}

export function parseOwnerId(id: string): Owner | null {
  const m = OWNER_RE.exec(id);
  return m ? { pid: Number(m[1]), start: m[2]!, nonce: m[3]!, host: m[4]! } : null;
}

/** The owner a lock file's text names; null for a lock git (or anything else) made. */
export function parseLockText(text: string): Owner | null {
  if (!text.startsWith(LOCK_MAGIC)) return null;
  return parseOwnerId(text.slice(LOCK_MAGIC.length).trim());
}

/** The owner id a lock file names; null when it names none (git's own locks); undefined when there is no such file. */
export function readLockOwner(file: string): string | null | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const o = parseLockText(text);
  return o ? ownerId(o) : null;
}

export function newOwner(nonce: string): Owner {
  if (selfStart === null) selfStart = processStart(process.pid) ?? '-';
  return { pid: process.pid, start: selfStart, nonce, host: HOST };
}

/**
 * 'dead' only when provably so: same host and the process is gone (or its pid now belongs
 * to a process that started at another time). An owner on another host sharing this
 * directory cannot be checked; it counts as dead once `ageMs` (how long its file has
 * existed untouched) passes `staleMs`, the lease such set-ups must allow for.
 */
export function ownerAlive(o: Owner, ageMs: number, staleMs: number): boolean {
  if (o.host !== HOST) return ageMs <= staleMs;
  if (o.pid === process.pid) return o.start === (selfStart ?? processStart(process.pid) ?? '-') || o.start === '-';
  if (o.start !== '-') {
    const start = processStart(o.pid);
    if (start !== undefined) return start === o.start;
  }
  try {
    process.kill(o.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat); null
 * when the process does not exist or is a zombie; undefined where there is no /proc to ask.
 */
export function processStart(pid: number): string | null | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return existsProc() ? null : undefined;
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // A zombie (killed, not yet reaped by its parent) holds nothing any more: it is dead.
  if (fields[0] === 'Z' || fields[0] === 'X') return null;
  return fields[19] ?? undefined;
}

let procMounted: boolean | null = null;
function existsProc(): boolean {
  if (procMounted === null) {
    try {
      readFileSync('/proc/self/stat');
      procMounted = true;
    } catch {
      procMounted = false;
    }
  }
  return procMounted;
}

/**
 * The file every lock and claim of one owner is a hard link of. Linking a finished file is
 * how a lock comes to exist already holding its owner's name (`link` fails if the target
 * exists, like `open(O_EXCL)`), so there is no moment at which a lock exists but is
 * anonymous: a writer killed at any instant leaves only locks that name it.
 */
export class OwnerFile {
  readonly owner: Owner;
  readonly id: string;
  readonly path: string;
  private made = false;

  constructor(
    private readonly dir: string,
    nonce: string,
  ) {
    this.owner = newOwner(nonce);
    this.id = ownerId(this.owner);
    this.path = join(dir, this.id);
  }

  /** Creates `target` exclusively as a link of this owner's file. Throws EEXIST when taken. */
  link(target: string): void {
    this.ensure();
    // `git pack-refs --prune` removes ref directories that it empties, at any moment: one
    // made here may be gone again before the link.
    for (let tries = 0; ; tries++) {
      try {
        linkSync(this.path, target);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || tries >= 20) throw e;
        try {
          mkdirSync(dirname(target), { recursive: true });
        } catch {
          // A file where a directory should be (refs/a beside refs/a/b): callers leave those to git.
          throw Object.assign(new Error(`cannot make the directory of ${target}`), { code: 'ENOTDIR' });
        }
      }
    }
  }

  /** True when `file` is one of this owner's links (same text; owner ids are never reused). */
  holds(file: string): boolean {
    return readLockOwner(file) === this.id;
  }

  remove(): void {
    if (!this.made) return;
    this.made = false;
    try {
      unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }

  private ensure(): void {
    if (this.made) return;
    const tmp = `${this.path}.tmp`;
    let fd: number;
    try {
      fd = openSync(tmp, 'w', 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      mkdirSync(this.dir, { recursive: true });
      fd = openSync(tmp, 'w', 0o644);
    }
    try {
      writeSync(fd, `${LOCK_MAGIC}${this.id}\n`);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    this.made = true;
  }
}
