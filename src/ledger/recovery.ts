import { readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Journal, listDir, unlinkQuietly, type JournalRecord, type LockIdentity } from './journal.js';
import { ownerAlive, parseOwnerId, readLockOwner, type OwnerFile } from './lock-owner.js';
import type { RefUpdate, TransactionResult } from './ref-updater.js';

export interface RecoveryResult {
  /** Transactions a dead writer had committed to, finished. */
  rolledForward: number;
  /** Transactions a dead writer had not committed to, undone. */
  discarded: number;
  /** Locks of dead writers removed. */
  locksFreed: number;
}

export interface RecoveryIo {
  /** Sets a ref whose lock we hold (null when refs are not plain files: nothing to place). */
  place: ((ref: string, oid: string) => void) | null;
  /** The commit a ref points at now, or null. */
  readRef(ref: string): Promise<string | null>;
  /** A fresh git transaction (for deletes, which rewrite packed-refs). */
  gitTransaction(updates: RefUpdate[]): Promise<TransactionResult>;
}

export type LockState = 'freed' | 'held' | 'foreign';

/**
 * Clears what writers killed mid-transaction leave behind, and only that. The invariants
 * (written out in docs/architecture.md, "Crash safety"):
 * - a lock is removed only by its owner, or by a recoverer that holds the claim on its
 *   owner after proving the owner dead (the lock's own text names the owner; a lock git
 *   made is identified by the inode and change time recorded while git held it);
 * - at most one live recoverer holds the claim on a dead owner (claims are made
 *   exclusively); a recoverer that dies holding claims is itself a dead owner, and whoever
 *   claims it inherits its claims;
 * - an intent record exists only while its writer holds every lock it names and has
 *   checked every value: it is the commit point, so a recoverer finishes ("rolls forward")
 *   every transaction it finds a record of, and a writer that died before its record left
 *   nothing but locks.
 */
export class Recovery {
  constructor(
    private readonly gitDir: string,
    private readonly owner: OwnerFile,
    private readonly journal: Journal,
    private readonly ownersDir: string,
    private readonly staleMs: number,
    private readonly io: RecoveryIo,
  ) {}

  /** Finishes or undoes the transactions of every dead writer with a record or claim here. */
  async sweep(): Promise<RecoveryResult> {
    const stats: RecoveryResult = { rolledForward: 0, discarded: 0, locksFreed: 0 };
    for (const [id, file] of this.journal.owners()) {
      if (id !== this.owner.id && this.dead(id, file)) await this.recoverOwner(id, stats, [], 0, false);
    }
    // Owner files of writers that died between transactions hold nothing: drop them.
    for (const name of listDir(this.ownersDir)) {
      const id = name.replace(/\.(tmp|val)$/, '');
      if (id !== this.owner.id && this.dead(id, join(this.ownersDir, name))) unlinkQuietly(join(this.ownersDir, name));
    }
    return stats;
  }

  /**
   * A write found `lock` in its way. 'freed' when the lock is gone now (its owner was
   * provably dead and is recovered, or it went away by itself); 'held' when a live writer
   * has it; 'foreign' when it names no owner (git's, or anything else's) and no record of a
   * dead writer accounts for it.
   */
  async freeLock(lock: string, stats: RecoveryResult): Promise<LockState> {
    const who = readLockOwner(lock);
    if (who === undefined) return 'freed';
    if (who === null) {
      // Perhaps a git process of a dead writer: its record says so.
      if (this.journal.owners().size) {
        const s = await this.sweep();
        add(stats, s);
        if (readLockOwner(lock) === undefined) return 'freed';
      }
      return 'foreign';
    }
    if (who === this.owner.id || !this.dead(who, lock)) return 'held';
    return (await this.recoverOwner(who, stats, [lock], 0, false)) ? 'freed' : 'held';
  }

  /** True when the owner is provably gone (see ownerAlive); `file` dates owners on other hosts. */
  dead(id: string, file: string): boolean {
    const o = parseOwnerId(id);
    return o !== null && !ownerAlive(o, Journal.ageOf(file), this.staleMs);
  }

  private async recoverOwner(id: string, stats: RecoveryResult, hits: string[], depth: number, inherited: boolean): Promise<boolean> {
    if (depth > 8) return false;
    const claim = this.journal.claimPath(id);
    if (!inherited) {
      try {
        this.owner.link(claim);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const holder = readLockOwner(claim);
        if (holder === undefined) return this.recoverOwner(id, stats, hits, depth + 1, false); // just released: try again
        if (holder === null || holder === this.owner.id || !this.dead(holder, claim)) return false;
        // The holder died recovering `id`: whoever recovers the holder inherits its claims.
        if (!(await this.recoverOwner(holder, stats, [], depth + 1, false))) return false;
        return this.recoverOwner(id, stats, hits, depth + 1, false);
      }
    }
    // We hold the claim on `id` (or inherited it): nobody else touches its leftovers now.
    for (const name of this.journal.claimsHeldBy(id, readLockOwner)) {
      if (name !== id) await this.recoverOwner(name, stats, [], depth + 1, true);
    }
    for (const { file, record } of this.journal.records(id)) {
      if (!(await this.finish(file, record, stats))) {
        // Its git process still runs: it will finish by itself; come back later.
        unlinkQuietly(claim);
        return false;
      }
    }
    for (const lock of hits) {
      if (readLockOwner(lock) === id && unlinkQuietly(lock)) stats.locksFreed++;
    }
    for (const suffix of ['', '.tmp', '.val']) unlinkQuietly(join(this.ownersDir, `${id}${suffix}`));
    unlinkQuietly(claim);
    return true;
  }

  /** Finishes one record of a dead owner. False when its git process is still running. */
  private async finish(file: string, record: JournalRecord, stats: RecoveryResult): Promise<boolean> {
    const lockOf = (ref: string) => join(this.gitDir, `${ref}.lock`);
    if (record.path === 'files') {
      const held = record.updates.filter((u) => readLockOwner(lockOf(u.ref)) === record.owner);
      // Past the commit point: every ref still locked gets its new value.
      if (this.io.place) for (const u of held) if (u.newOid) this.io.place(u.ref, u.newOid);
      if (held.length) stats.rolledForward++;
      this.journal.remove(file);
      for (const u of held) if (unlinkQuietly(lockOf(u.ref))) stats.locksFreed++;
      return true;
    }
    const git = parseOwnerId(`${record.gitPid}.${record.gitStart}.0@${parseOwnerId(record.owner)?.host ?? ''}`);
    if (git && ownerAlive(git, Journal.ageOf(file), this.staleMs)) return false;
    const held = record.updates.filter((u) => sameLock(lockOf(u.ref), record.locks[u.ref]));
    const packedLock = join(this.gitDir, 'packed-refs.lock');
    const packedHeld = sameLock(packedLock, record.packedLock ?? undefined);
    if (!held.length && !packedHeld) {
      // git finished (or aborted) before it died: nothing of its is left.
      this.journal.remove(file);
      return true;
    }
    // git had started its commit when some ref it no longer holds is at its new value.
    const heldRefs = new Set(held.map((u) => u.ref));
    let moved = false;
    for (const u of record.updates) {
      if (heldRefs.has(u.ref)) continue;
      if ((await this.io.readRef(u.ref)) === u.newOid) moved = true;
    }
    const deletes: RefUpdate[] = [];
    if (moved) {
      for (const u of held) {
        const lock = lockOf(u.ref);
        if (u.newOid && readText(lock) === `${u.newOid}\n`) {
          // git's lock holds the new value: renaming it is the step git did not get to.
          renameSync(lock, join(this.gitDir, u.ref));
          stats.locksFreed++;
        } else if (!u.newOid) deletes.push(u);
      }
      stats.rolledForward++;
    } else stats.discarded++;
    this.journal.remove(file);
    for (const u of held) if (unlinkQuietly(lockOf(u.ref))) stats.locksFreed++;
    if (packedHeld && unlinkQuietly(packedLock)) stats.locksFreed++;
    if (deletes.length) await this.io.gitTransaction(deletes);
    return true;
  }
}

export function lockIdentity(file: string): LockIdentity | null {
  try {
    const st = statSync(file, { bigint: true });
    return { ino: st.ino.toString(), ctimeNs: st.ctimeNs.toString() };
  } catch {
    return null;
  }
}

function sameLock(file: string, id: LockIdentity | undefined): boolean {
  if (!id) return false;
  const now = lockIdentity(file);
  return now !== null && now.ino === id.ino && now.ctimeNs === id.ctimeNs;
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function add(a: RecoveryResult, b: RecoveryResult): void {
  a.rolledForward += b.rolledForward;
  a.discarded += b.discarded;
  a.locksFreed += b.locksFreed;
}
