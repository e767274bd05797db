import { closeSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RefUpdate, TransactionResult } from './ref-updater.js';

/** Refs git keeps reflogs for by default (core.logAllRefUpdates): git writes those. */
const LOGGED = /^refs\/(heads|remotes|notes)\//;

/**
 * Reads and compare-and-swaps refs in git's "files" ref store directly, with git's own
 * locking protocol: `<ref>.lock` created exclusively, the current value checked (loose
 * file, else `packed-refs`), the new value written into the lock, every lock renamed into
 * place. Any git process (update-ref, pack-refs, fetch) takes the same locks, so the two
 * interleave safely. It exists for speed: a `gt bead update` used to spend more time
 * starting `git update-ref` than on everything else it did.
 *
 * It answers `undefined` for what it does not handle (symbolic refs, a malformed ref file,
 * deletes, which must rewrite `packed-refs`); the ledger then asks git.
 */
export class RefFiles {
  private packed: { key: string; text: string } | null = null;

  constructor(
    private readonly gitDir: string,
    private readonly oidLength: number,
  ) {}

  /**
   * True when refs are plain files (not reftable, git 2.45's alternative) and git would not
   * keep a reflog for ours (`core.logAllRefUpdates = always`): we write no reflogs.
   */
  static supports(gitConfig: string): boolean {
    return !/^\s*refstorage\s*=\s*reftable\s*$/im.test(gitConfig) && !/^\s*logallrefupdates\s*=\s*always\s*$/im.test(gitConfig);
  }

  /** The commit a ref points at; null when the ref does not exist; undefined when git must answer. */
  read(ref: string): string | null | undefined {
    let text: string;
    try {
      text = readFileSync(join(this.gitDir, ref), 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return this.readPacked(ref);
      return undefined;
    }
    const oid = text.trim();
    return this.isOid(oid) ? oid : undefined;
  }

  /**
   * One all-or-nothing compare-and-swap over several refs. Returns undefined (having changed
   * nothing) when a ref is beyond what this class handles.
   */
  transaction(updates: RefUpdate[]): TransactionResult | undefined {
    // Branches, remote-tracking refs and notes get reflogs by default (a ledger prefix may
    // live under refs/heads/ for hosts that accept nothing else): git writes those.
    if (updates.some((u) => u.newOid === null || !this.isOid(u.newOid) || LOGGED.test(u.ref))) return undefined;
    // Locks in a fixed order, like git, so two transactions over the same refs meet at the first.
    const sorted = [...updates].sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
    const held: { lock: string; ref: string }[] = [];
    // Empties `held` as it goes: a lock released once may already be another writer's.
    const release = () => {
      for (const h of held.splice(0)) unlinkQuietly(h.lock);
    };
    try {
      for (const u of sorted) {
        const file = join(this.gitDir, u.ref);
        const lock = `${file}.lock`;
        // A ref where a directory of ours should be, or the other way round (refs/a beside
        // refs/a/b), is refused by git with its own explanation: leave those to it.
        if (u.oldOid === null && this.clashesWithPacked(u.ref)) {
          release();
          return undefined;
        }
        let fd: number;
        try {
          fd = openLock(lock);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          release();
          if (code === 'EEXIST') return { ok: false, reason: 'locked', ref: u.ref, lockPath: lock, message: `Unable to create '${lock}': File exists.` };
          if (code === 'ENOTDIR' || code === 'EISDIR') return undefined;
          throw e;
        }
        held.push({ lock, ref: u.ref });
        let refusal: TransactionResult | undefined | null = null;
        try {
          const current = this.read(u.ref);
          if (current === undefined) refusal = undefined;
          else if (current !== u.oldOid) {
            const message =
              u.oldOid === null
                ? `cannot lock ref '${u.ref}': reference already exists`
                : current === null
                  ? `cannot lock ref '${u.ref}': unable to resolve reference '${u.ref}'`
                  : `cannot lock ref '${u.ref}': is at ${current} but expected ${u.oldOid}`;
            refusal = { ok: false, reason: 'conflict', ref: u.ref, lockPath: null, message };
          } else writeSync(fd, `${u.newOid}\n`);
        } finally {
          closeSync(fd);
        }
        if (refusal !== null) {
          release();
          return refusal;
        }
      }
    } catch (e) {
      release();
      throw e;
    }
    // The commit point: every ref is locked and checked. A crash from here on leaves some
    // refs moved and some locks behind, which the ledger's journal rolls forward.
    held.forEach((h, i) => {
      try {
        renameSync(h.lock, join(this.gitDir, h.ref));
      } catch (e) {
        // The file system failed us mid-commit (as it can fail git): free the other refs.
        for (const rest of held.slice(i)) unlinkQuietly(rest.lock);
        throw e;
      }
    });
    return { ok: true };
  }

  private readPacked(ref: string): string | null | undefined {
    const text = this.packedText();
    if (typeof text !== 'string') return text;
    const at = text.indexOf(` ${ref}\n`);
    if (at < 0) return null;
    const start = at - this.oidLength;
    if (start < 0 || (start > 0 && text[start - 1] !== '\n')) return undefined;
    const oid = text.slice(start, at);
    return this.isOid(oid) ? oid : undefined;
  }

  /** True when packed-refs holds a ref that is a directory of `ref`, or lies under it. */
  private clashesWithPacked(ref: string): boolean {
    const text = this.packedText();
    if (typeof text !== 'string') return text === undefined;
    if (text.includes(` ${ref}/`)) return true;
    for (let slash = ref.indexOf('/', 5); slash > 0; slash = ref.indexOf('/', slash + 1))
      if (text.includes(` ${ref.slice(0, slash)}\n`)) return true;
    return false;
  }

  /** packed-refs as text; null when there is none, undefined when it cannot be read. */
  private packedText(): string | null | undefined {
    const file = join(this.gitDir, 'packed-refs');
    let key: string;
    try {
      const st = statSync(file);
      key = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ENOENT' ? null : undefined;
    }
    // Long-lived processes read it once per change (git rewrites it whole, under a new inode).
    if (this.packed?.key !== key) {
      try {
        this.packed = { key, text: readFileSync(file, 'utf8') };
      } catch {
        return undefined;
      }
    }
    return this.packed.text;
  }

  private isOid(s: string): boolean {
    return s.length === this.oidLength && /^[0-9a-f]+$/.test(s);
  }
}

/** Creates the lock exclusively, making its directory on first need. */
function openLock(lock: string): number {
  try {
    return openSync(lock, 'wx', 0o666);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    try {
      mkdirSync(dirname(lock), { recursive: true });
    } catch {
      // A loose ref where a directory should be (refs/a beside refs/a/b): git explains those.
      throw Object.assign(new Error(`cannot make the directory of ${lock}`), { code: 'ENOTDIR' });
    }
    return openSync(lock, 'wx', 0o666);
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    /* already gone */
  }
}
