import { PassThrough, Readable } from 'node:stream';
import { runCli } from '../../src/cli/main.js';
import type { CliContext } from '../../src/cli/cli-context.js';
import { TEST_GIT_ENV } from '../helpers/temp-repo.js';

export interface GtResult {
  code: number;
  stdout: string;
  stderr: string;
  json<T = unknown>(): T;
}

/** Runs the real CLI in-process with captured streams (no process spawn per command). */
export async function gt(cwd: string, args: string[], opts: { stdin?: string; actor?: string; now?: () => Date } = {}): Promise<GtResult> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d) => (stdout += d));
  err.on('data', (d) => (stderr += d));
  const ctx: CliContext = {
    cwd,
    env: { ...TEST_GIT_ENV, GT_ACTOR: opts.actor ?? 'tester' },
    stdout: out,
    stderr: err,
    stdin: Readable.from([opts.stdin ?? '']),
    now: opts.now ?? (() => new Date()),
  };
  const code = await runCli(args, ctx);
  return {
    code,
    stdout,
    stderr,
    json<T>() {
      return JSON.parse(stdout) as T;
    },
  };
}
