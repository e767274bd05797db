import { processContext } from './cli-context.js';
import { registerSync } from './commands/sync.js';
import { programWith, runProgram } from './program.js';

/**
 * Process entry for `gt sync` alone (bin/gt.cjs picks it for that command): the same
 * program, options and error boundary as entry.ts, with only the sync command registered,
 * so the bundle built from it (dist/bundle/gt-sync.cjs) holds only what a sync runs. A
 * sync with nothing to do is mostly node starting and the bundle loading; the whole CLI's
 * bundle cost it about 3 ms more to read, compile from its cache and initialise (every
 * other command's commander setup and schemas).
 */
export async function main(argv: string[]): Promise<number> {
  const ctx = processContext();
  return runProgram(argv, ctx, programWith(ctx, [registerSync]));
}
