import { execFile, spawn } from 'node:child_process';
import { GastownError } from '../errors.js';

export interface RunGitOptions {
  cwd: string;
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  /** Exit codes that are answers, not failures (e.g. 1 for `merge-base --is-ancestor`). */
  okCodes?: number[];
}

export interface GitResult {
  stdout: Buffer;
  stderr: string;
  code: number;
}

/**
 * Environment for every git process the ledger starts: ledger commits are written
 * in-process with their own identity, but git may still want one (reflogs), and it must
 * never prompt on a terminal.
 */
export function gitEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_COMMITTER_NAME: process.env.GIT_COMMITTER_NAME ?? 'gastown',
    GIT_COMMITTER_EMAIL: process.env.GIT_COMMITTER_EMAIL ?? 'gastown@localhost',
    GIT_AUTHOR_NAME: process.env.GIT_AUTHOR_NAME ?? 'gastown',
    GIT_AUTHOR_EMAIL: process.env.GIT_AUTHOR_EMAIL ?? 'gastown@localhost',
    ...extra,
  };
}

/** Runs one git command to completion. For hot paths use the long-lived processes instead. */
export function runGit(args: string[], opts: RunGitOptions): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: opts.cwd, env: opts.env ?? gitEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => reject(new GastownError('gastown_git', `cannot run git: ${e.message}`, { args }, { cause: e })));
    child.on('close', (code) => {
      const result = { stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'), code: code ?? -1 };
      if (code === 0 || (opts.okCodes ?? []).includes(code ?? -1)) resolve(result);
      else
        reject(
          new GastownError('gastown_git', `git ${args[0]} failed: ${firstLine(result.stderr) || `exit ${code}`}`, {
            args: redactArgs(args),
            code,
            stderr: redact(result.stderr),
          }),
        );
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

function firstLine(s: string): string {
  return (
    s
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('hint:'))[0] ?? ''
  );
}

/** Remote URLs may carry tokens (`https://x-access-token:...@`); never let them reach a log. */
export function redact(s: string): string {
  return s.replace(/(\/\/)[^/@\s]+@/g, '$1***@');
}

function redactArgs(args: string[]): string[] {
  return args.map(redact);
}

export interface GitTextResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunGitTextOptions {
  cwd: string;
  /**
   * Added to the caller's environment. Unlike the ledger's own processes no identity is
   * defaulted here: a polecat's commits carry the identity its workspace or `env` gives.
   */
  env?: Record<string, string>;
  /** Exit codes that are answers rather than failures (e.g. 1 for `diff --quiet`). */
  okCodes?: number[];
}

/**
 * Runs git in a work tree (the runner, the Refinery, the demo) and returns text; any exit
 * code outside `okCodes` becomes a `gastown_git` error carrying git's whole stderr (a hook's
 * refusal is several lines), with credentials in URLs redacted like every git error here.
 */
export function runGitText(args: string[], opts: RunGitTextOptions): Promise<GitTextResult> {
  const okCodes = opts.okCodes ?? [0];
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      // `-C`, not a spawn cwd: a missing directory is git's clear error, not a spawn failure.
      ['-C', opts.cwd, ...args],
      { env: { ...process.env, GIT_TERMINAL_PROMPT: '0', ...opts.env }, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const exitCode = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        if (okCodes.includes(exitCode)) {
          resolve({ stdout, stderr, exitCode });
          return;
        }
        const why = redact(stderr.trim() || err?.message || 'unknown error');
        reject(
          new GastownError('gastown_git', `git ${args[0] ?? ''} failed: ${why}`, {
            args: redactArgs(args),
            cwd: opts.cwd,
            exitCode,
            stderr: redact(stderr.trim()),
          }),
        );
      },
    );
  });
}
