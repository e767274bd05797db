import { execFile } from 'node:child_process';
import { GastownError } from '../errors.js';

export interface GitResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunGitOptions {
  /** Extra environment on top of the inherited one (identity variables, for example). */
  env?: Record<string, string>;
  /** Exit codes that are answers rather than failures (e.g. 1 for `diff --quiet`). */
  okCodes?: number[];
}

/**
 * Runs `git -C cwd ...args` and returns its output; any exit code outside `okCodes`
 * becomes a `gastown_git` error carrying git's stderr, so callers never parse failures.
 */
export function runGit(cwd: string, args: string[], opts: RunGitOptions = {}): Promise<GitResult> {
  const okCodes = opts.okCodes ?? [0];
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['-C', cwd, ...args],
      {
        // Only spread the parent environment when we must add to it; otherwise inherit.
        env: opts.env ? { ...process.env, ...opts.env } : undefined,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        const exitCode = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        if (okCodes.includes(exitCode)) {
          resolve({ stdout, stderr, exitCode });
          return;
        }
        reject(
          new GastownError('gastown_git', `git ${args[0] ?? ''} failed: ${stderr.trim() || err?.message || 'unknown error'}`, {
            args,
            cwd,
            exitCode,
            stderr: stderr.trim(),
          }),
        );
      },
    );
  });
}
