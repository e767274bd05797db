import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { GastownError } from '../errors.js';
import { gitEnv } from './run-git.js';

export interface GitObject {
  oid: string;
  type: string;
  content: Buffer;
}

interface Pending {
  resolve(o: GitObject | null): void;
  reject(e: Error): void;
}

/**
 * One long-lived `git cat-file --batch-command --buffer` process. Requests are pipelined:
 * callers may issue thousands before the first answer arrives, and answers come back in
 * order, at about 0.03 ms an object instead of 2 to 4 ms for a process each.
 */
export class CatFile {
  private child: ChildProcessWithoutNullStreams | null = null;
  private readonly queue: Pending[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private flushScheduled = false;

  constructor(private readonly cwd: string) {}

  /** Reads an object by any name git understands (`<oid>`, `<ref>`, `<rev>:<path>`); null when missing. */
  read(name: string): Promise<GitObject | null> {
    if (/[\n\r]/.test(name)) return Promise.reject(new GastownError('gastown_bad_input', `bad object name ${JSON.stringify(name)}`));
    const child = this.ensure();
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject });
      child.stdin.write(`contents ${name}\n`);
      this.scheduleFlush();
    });
  }

  /** Reads many objects in one pipelined round trip. */
  readMany(names: string[]): Promise<(GitObject | null)[]> {
    return Promise.all(names.map((n) => this.read(n)));
  }

  close(): void {
    const child = this.child;
    this.child = null;
    if (child) {
      child.stdin.end();
      child.kill();
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Flush once per tick so a burst of reads becomes one batch.
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.child?.stdin.write('flush\n');
    });
  }

  private ensure(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = spawn('git', ['cat-file', '--batch-command', '--buffer'], { cwd: this.cwd, env: gitEnv() });
    this.child = child;
    this.buf = Buffer.alloc(0);
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.drain();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => undefined);
    const fail = (why: string) => {
      if (this.child === child) this.child = null;
      const err = new GastownError('gastown_git', `git cat-file ended: ${why}${stderr ? `: ${stderr.trim()}` : ''}`);
      for (const p of this.queue.splice(0)) p.reject(err);
    };
    child.on('error', (e) => fail(e.message));
    child.on('close', (code) => {
      if (this.queue.length) fail(`exit ${code}`);
      else if (this.child === child) this.child = null;
    });
    return child;
  }

  private drain(): void {
    for (;;) {
      const nl = this.buf.indexOf(10);
      if (nl < 0) return;
      const header = this.buf.subarray(0, nl).toString('utf8');
      const pending = this.queue[0];
      if (!pending) return;
      if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
        this.buf = this.buf.subarray(nl + 1);
        this.queue.shift();
        pending.resolve(null);
        continue;
      }
      const [oid, type, sizeText] = header.split(' ');
      const size = Number(sizeText);
      if (!oid || !type || !Number.isFinite(size)) {
        this.queue.shift();
        pending.reject(new GastownError('gastown_git', `unexpected cat-file output: ${header}`));
        this.buf = this.buf.subarray(nl + 1);
        continue;
      }
      const end = nl + 1 + size;
      if (this.buf.length < end + 1) return; // wait for the rest (content + trailing LF)
      const content = Buffer.from(this.buf.subarray(nl + 1, end));
      this.buf = this.buf.subarray(end + 1);
      this.queue.shift();
      pending.resolve({ oid, type, content });
    }
  }
}
