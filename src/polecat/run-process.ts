import { spawn } from 'node:child_process';

export interface RunProcessOptions {
  cwd: string;
  /** The complete environment of the child (nothing is inherited implicitly). */
  env: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed. Without it stdin is /dev/null. */
  stdin?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Keep at most this many bytes of combined output (the tail, where failures show). */
  outputCapBytes?: number;
  /** Send stdout to this open file descriptor instead (output then holds stderr only). */
  stdoutFd?: number;
}

export interface RunProcessResult {
  exitCode: number | null;
  /** Set when the process died from a signal (ours or someone else's). */
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** Combined stdout and stderr, in arrival order, capped to the tail. */
  output: string;
  truncatedBytes: number;
}

const DEFAULT_CAP = 64 * 1024;

/**
 * Runs one command in its own process group and always resolves (never rejects on a
 * non-zero exit). The group matters: `bash -c` starts grandchildren, and a timeout or
 * abort must kill all of them, not just the shell, or pipes stay open and we hang.
 */
export function runProcess(file: string, args: string[], opts: RunProcessOptions): Promise<RunProcessResult> {
  const cap = opts.outputCapBytes ?? DEFAULT_CAP;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let truncatedBytes = 0;
    let timedOut = false;
    let aborted = false;
    let settled = false;

    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: opts.env,
      detached: true,
      stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', opts.stdoutFd ?? 'pipe', 'pipe'],
    });

    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // ESRCH: the group is already gone.
      }
    };

    const collect = (buf: Buffer): void => {
      chunks.push(buf);
      kept += buf.length;
      while (kept > cap && chunks.length > 0) {
        const first = chunks[0]!;
        const excess = kept - cap;
        if (first.length <= excess) {
          chunks.shift();
          kept -= first.length;
          truncatedBytes += first.length;
        } else {
          chunks[0] = first.subarray(excess);
          kept -= excess;
          truncatedBytes += excess;
        }
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);

    const timer =
      opts.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            killGroup();
          }, opts.timeoutMs)
        : undefined;
    const onAbort = (): void => {
      aborted = true;
      killGroup();
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });

    const finish = (exitCode: number | null, signal: NodeJS.Signals | null, extra?: string): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      let output = Buffer.concat(chunks).toString('utf8');
      if (extra) output += extra;
      resolve({ exitCode, signal, timedOut, aborted, output, truncatedBytes });
    };

    // When the shell exits, stray background children would keep our pipes open forever:
    // a step is not allowed to leave daemons behind, so the rest of the group goes too.
    child.on('exit', () => killGroup());
    child.on('close', (code, signal) => finish(code, signal));
    child.on('error', (err) => finish(null, null, `\n[spawn failed: ${err.message}]`));

    if (opts.stdin !== undefined && child.stdin) {
      child.stdin.on('error', () => {
        // EPIPE when the command does not read its input: not our failure to report.
      });
      child.stdin.end(opts.stdin);
    }
  });
}

/** The last `maxChars` characters of `text`, marked when cut. */
export function tail(text: string, maxChars = 2000): string {
  const trimmed = text.trimEnd();
  return trimmed.length <= maxChars ? trimmed : `…${trimmed.slice(trimmed.length - maxChars)}`;
}
