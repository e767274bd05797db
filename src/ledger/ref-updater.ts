import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { GastownError } from '../errors.js';
import { gitEnv } from './run-git.js';

export interface RefUpdate {
  ref: string;
  /** New object id, or null to delete. */
  newOid: string | null;
  /** Expected current id, or null when the ref must not exist yet. */
  oldOid: string | null;
}

export interface PreparedHooks {
  /** Git holds every lock (`gitPid` is its process); returns the record to remove after, if any. */
  prepared(gitPid: number): string | null;
  done(record: string): void;
}

export type TransactionResult =
  | { ok: true }
  | { ok: false; reason: 'conflict' | 'locked'; ref: string | null; lockPath: string | null; message: string };

/**
 * A long-lived `git update-ref --stdin` process running one compare-and-swap transaction
 * at a time (`start` / `update <ref> <new> <old>` ... / `prepare` / `commit`). Every ref of
 * a transaction changes or none does. In git 2.39 a failed compare-and-swap ends the
 * process (exit 128), so the next transaction starts a new one.
 */
export class RefUpdater {
  private child: ChildProcessWithoutNullStreams | null = null;
  private out = '';
  private err = '';
  private waiter: ((line: string | null) => void) | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly cwd: string,
    private readonly zeroOid: string,
  ) {}

  /**
   * Runs one all-or-nothing transaction. Transactions from one process are serialised.
   * `prepared` runs once git holds every lock and has checked every old value, before
   * `commit` is sent: the ledger writes its intent record there; `done` runs after.
   */
  transaction(updates: RefUpdate[], hooks?: PreparedHooks): Promise<TransactionResult> {
    const run = this.chain.then(() => this.run(updates, hooks));
    this.chain = run.catch(() => undefined);
    return run;
  }

  close(): void {
    const child = this.child;
    this.child = null;
    if (child) {
      child.stdin.end();
      child.kill();
    }
  }

  private async run(updates: RefUpdate[], hooks?: PreparedHooks): Promise<TransactionResult> {
    if (updates.length === 0) return { ok: true };
    const child = this.ensure();
    let body = 'start\n';
    for (const u of updates) {
      if (/\s/.test(u.ref)) throw new GastownError('gastown_bad_input', `bad ref name ${JSON.stringify(u.ref)}`);
      if (u.newOid === null) body += `delete ${u.ref} ${u.oldOid ?? ''}\n`;
      else body += `update ${u.ref} ${u.newOid} ${u.oldOid ?? this.zeroOid}\n`;
    }
    body += 'prepare\n';
    // Should we die before `commit` is written, git reads end-of-file in an open or
    // prepared transaction and aborts it, freeing its locks.
    child.stdin.write(body);
    let record: string | null = null;
    for (const expected of ['start: ok', 'prepare: ok', 'commit: ok']) {
      const line = await this.nextLine();
      if (line === expected) {
        if (expected === 'prepare: ok') {
          record = hooks?.prepared(child.pid!) ?? null;
          child.stdin.write('commit\n');
        }
        continue;
      }
      // The process has died (or is about to): the stderr names the ref and the reason.
      await this.exited(child);
      if (record) hooks?.done(record);
      return this.failure(this.err);
    }
    if (record) hooks?.done(record);
    return { ok: true };
  }

  private failure(stderr: string): TransactionResult {
    const message =
      stderr
        .trim()
        .split('\n')
        .find((l) => l.startsWith('fatal:')) ?? stderr.trim();
    const ref = /lock ref '([^']+)'/.exec(message)?.[1] ?? null;
    const lock = /Unable to create '([^']+\.lock)': File exists/.exec(message)?.[1] ?? null;
    if (lock) return { ok: false, reason: 'locked', ref, lockPath: lock, message };
    if (
      /is at [0-9a-f]+ but expected|reference already exists|unable to resolve reference|reference is missing|expected|does not exist/i.test(
        message,
      )
    )
      return { ok: false, reason: 'conflict', ref, lockPath: null, message };
    throw new GastownError('gastown_git', `git update-ref failed: ${message || 'process ended'}`);
  }

  private ensure(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    // In a process group of its own: a kill aimed at the writer's group (a CI job's timeout,
    // a terminal's ^C) leaves git to finish the transaction it was given or, if `commit`
    // never arrived, to read end-of-file and abort it, freeing its locks either way. Only a
    // kill aimed at git itself can leave its locks behind (see Recovery).
    const child = spawn('git', ['update-ref', '--stdin'], { cwd: this.cwd, env: gitEnv(), detached: true });
    this.child = child;
    this.out = '';
    this.err = '';
    child.stdout.on('data', (d: Buffer) => {
      this.out += d.toString('utf8');
      this.pump();
    });
    child.stderr.on('data', (d: Buffer) => (this.err += d.toString('utf8')));
    child.stdin.on('error', () => undefined);
    child.on('close', () => {
      if (this.child === child) this.child = null;
      const w = this.waiter;
      this.waiter = null;
      w?.(null);
    });
    child.on('error', () => undefined);
    return child;
  }

  private exited(child: ChildProcessWithoutNullStreams): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => child.once('close', () => resolve()));
  }

  private nextLine(): Promise<string | null> {
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.pump();
      if (this.waiter && !this.child) {
        this.waiter = null;
        resolve(null);
      }
    });
  }

  private pump(): void {
    if (!this.waiter) return;
    const nl = this.out.indexOf('\n');
    if (nl < 0) return;
    const line = this.out.slice(0, nl);
    this.out = this.out.slice(nl + 1);
    const w = this.waiter;
    this.waiter = null;
    w(line);
  }
}
