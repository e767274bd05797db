import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unlinkQuietly, type Journal } from './journal.js';
import type { OwnerFile } from './lock-owner.js';
import type { RefUpdate, TransactionResult } from './ref-updater.js';
import { countPackedUnder, hasPackedRef, hasPackedUnder, isSortedPacked } from './sorted-packed-refs.js';

/** Refs git keeps reflogs for by default (core.logAllRefUpdates): git writes those. */
const LOGGED = /^refs\/(heads|remotes|notes)\//;

/**
 * Reads and compare-and-swaps refs in git's "files" ref store directly, taking git's own
 * locks (`<ref>.lock`, created exclusively): any git process (update-ref, pack-refs, fetch)
 * takes the same locks, so the two interleave safely. Unlike git, our lock files hold the
 * name of their owner, not the new value (see `transaction`), so a lock left by a killed
 * writer can be proven dead and cleared. It exists for speed: a `gt bead update` used to spend more time
 * starting `git update-ref` than on everything else it did.
 *
 * It answers `undefined` for what it does not handle (symbolic refs, a malformed ref file,
 * deletes, which must rewrite `packed-refs`); the ledger then asks git.
 */
export class RefFiles {
  private packed: { key: string; bytes: Buffer } | null = null;

  constructor(
    private readonly gitDir: string,
    private readonly oidLength: number,
    private readonly owner: OwnerFile,
    private readonly journal: Journal,
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
   * How many refs lie under `prefix` (which ends with '/'): the packed ones plus the loose
   * files not also packed. Loose refs are counted one directory deep (a kind's directory;
   * ids hold no '/'). Undefined when git must answer (packed-refs unreadable).
   */
  count(prefix: string): number | undefined {
    const bytes = this.packedBytes();
    if (bytes === undefined) return undefined;
    const packed = bytes ?? Buffer.alloc(0);
    const sorted = isSortedPacked(packed);
    let n = 0;
    if (sorted) n = countPackedUnder(packed, prefix, this.oidLength);
    else for (let at = packed.indexOf(` ${prefix}`); at >= 0; at = packed.indexOf(` ${prefix}`, at + 1)) n++;
    // One level: entity ids hold no '/', so a kind's directory holds only ref files (and locks).
    let loose: string[];
    try {
      loose = readdirSync(join(this.gitDir, prefix)).filter((name) => !name.endsWith('.lock'));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return n;
      return undefined;
    }
    if (loose.length === 0 || n === 0) return n + loose.length;
    // A ref written since the last pack-refs is in both places: count it once.
    if (sorted) return n + loose.filter((name) => !hasPackedRef(packed, `${prefix}${name}`, this.oidLength)).length;
    if (loose.length <= 32) return n + loose.filter((name) => !packed.includes(` ${prefix}${name}\n`)).length;
    const first = packed.indexOf(` ${prefix}`);
    const end = packed.indexOf('\n', packed.lastIndexOf(` ${prefix}`));
    const inPack = new Set(
      packed
        .toString('utf8', first, end < 0 ? packed.length : end)
        .split('\n')
        .map((l) => l.slice(l.indexOf(' ') + 1)),
    );
    return n + loose.filter((name) => !inPack.has(`${prefix}${name}`)).length;
  }

  /**
   * One all-or-nothing compare-and-swap over several refs. Returns undefined (having changed
   * nothing) when a ref is beyond what this class handles.
   *
   * The protocol (docs/architecture.md, "Crash safety"), interleaving with git's own:
   * 1. each `<ref>.lock` is made exclusively, in sorted order, as a link of the owner's
   *    file, so every lock names its owner from the instant it exists;
   * 2. each ref's current value is checked (loose file, else packed-refs);
   * 3. a transaction of several refs writes its intent record: the commit point;
   * 4. each new value is written to a file of the owner's and renamed over the ref;
   * 5. the record is removed, then the locks.
   * Git takes the same `<ref>.lock`, so a git process never moves a ref we hold.
   */
  transaction(updates: RefUpdate[]): TransactionResult | undefined {
    // Branches, remote-tracking refs and notes get reflogs by default (a ledger prefix may
    // live under refs/heads/ for hosts that accept nothing else): git writes those.
    if (updates.some((u) => u.newOid === null || !this.isOid(u.newOid) || LOGGED.test(u.ref))) return undefined;
    const sorted = [...updates].sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
    const held: string[] = [];
    const release = () => {
      for (const lock of held.splice(0)) unlinkQuietly(lock);
    };
    try {
      for (const u of sorted) {
        const lock = join(this.gitDir, `${u.ref}.lock`);
        // A ref where a directory of ours should be, or the other way round (refs/a beside
        // refs/a/b), is refused by git with its own explanation: leave those to it.
        if (u.oldOid === null && this.clashesWithPacked(u.ref)) {
          release();
          return undefined;
        }
        try {
          this.owner.link(lock);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          release();
          if (code === 'EEXIST')
            return { ok: false, reason: 'locked', ref: u.ref, lockPath: lock, message: `Unable to create '${lock}': File exists.` };
          if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'ENOENT') return undefined;
          throw e;
        }
        held.push(lock);
        const current = this.read(u.ref);
        if (current === undefined) {
          release();
          return undefined;
        }
        if (current !== u.oldOid) {
          release();
          const message =
            u.oldOid === null
              ? `cannot lock ref '${u.ref}': reference already exists`
              : current === null
                ? `cannot lock ref '${u.ref}': unable to resolve reference '${u.ref}'`
                : `cannot lock ref '${u.ref}': is at ${current} but expected ${u.oldOid}`;
          return { ok: false, reason: 'conflict', ref: u.ref, lockPath: null, message };
        }
      }
    } catch (e) {
      release();
      throw e;
    }
    // Locks are ours by construction (only a recoverer that proved us dead removes one),
    // but a lease on another host can expire: a writer that lost a lock reports it, never
    // writes through it.
    if (held.some((lock) => !this.owner.holds(lock))) {
      for (const lock of held.splice(0)) if (this.owner.holds(lock)) unlinkQuietly(lock);
      return { ok: false, reason: 'locked', ref: null, lockPath: null, message: 'a lock of this transaction was taken over' };
    }
    // The commit point. From here a crash leaves locks that name us and, for several refs,
    // the record by which a recoverer finishes what we started.
    const record = sorted.length > 1 ? this.journal.write({ path: 'files', owner: this.owner.id, updates: sorted }) : null;
    try {
      for (const u of sorted) this.place(u.ref, u.newOid!);
    } catch (e) {
      // The file system failed us mid-commit (as it can fail git): free the refs.
      if (record) this.journal.remove(record);
      release();
      throw e;
    }
    if (record) this.journal.remove(record);
    release();
    return { ok: true };
  }

  /**
   * Sets a ref whose lock the caller holds (its own, or a dead writer's it recovers): the
   * value goes into a file of the owner's, renamed over the ref, so readers see the old
   * value or the new one, never a partial file.
   */
  place(ref: string, oid: string): void {
    const tmp = `${this.owner.path}.val`;
    writeFileSync(tmp, `${oid}\n`);
    renameSync(tmp, join(this.gitDir, ref));
  }

  private readPacked(ref: string): string | null | undefined {
    const bytes = this.packedBytes();
    if (!bytes) return bytes;
    const at = bytes.indexOf(` ${ref}\n`);
    if (at < 0) return null;
    const start = at - this.oidLength;
    if (start < 0 || (start > 0 && bytes[start - 1] !== 0x0a)) return undefined;
    const oid = bytes.toString('latin1', start, at);
    return this.isOid(oid) ? oid : undefined;
  }

  /** True when packed-refs holds a ref that is a directory of `ref`, or lies under it. */
  private clashesWithPacked(ref: string): boolean {
    const bytes = this.packedBytes();
    if (!bytes) return bytes === undefined;
    if (isSortedPacked(bytes)) {
      if (hasPackedUnder(bytes, `${ref}/`, this.oidLength)) return true;
      for (let slash = ref.indexOf('/', 5); slash > 0; slash = ref.indexOf('/', slash + 1))
        if (hasPackedRef(bytes, ref.slice(0, slash), this.oidLength)) return true;
      return false;
    }
    if (bytes.includes(` ${ref}/`)) return true;
    for (let slash = ref.indexOf('/', 5); slash > 0; slash = ref.indexOf('/', slash + 1))
      if (bytes.includes(` ${ref.slice(0, slash)}\n`)) return true;
    return false;
  }

  /**
   * packed-refs as bytes (searched, never decoded whole: decoding a 10,000-bead file cost a
   * fresh process 9 ms, reading it 3); null when there is none, undefined when unreadable.
   */
  private packedBytes(): Buffer | null | undefined {
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
        this.packed = { key, bytes: readFileSync(file) };
      } catch {
        return undefined;
      }
    }
    return this.packed.bytes;
  }

  private isOid(s: string): boolean {
    return s.length === this.oidLength && /^[0-9a-f]+$/.test(s);
  }
}
