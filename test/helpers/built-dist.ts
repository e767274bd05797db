/** For tests that run the compiled app (bin/start.js, probot receive): dist/ as the source is now. */
import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const ROOT = join(import.meta.dirname, '..', '..');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Compiles src/ to dist/ (tsc only, no CLI bundle) when dist/app.js is missing or older than any source file. */
export async function ensureBuiltApp(): Promise<void> {
  let built = 0;
  try {
    built = statSync(join(ROOT, 'dist/app.js')).mtimeMs;
  } catch {
    // not built yet
  }
  if (built < newestMtime(join(ROOT, 'src'))) await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT });
}

/** Bundles the CLI (dist/bundle/gt.cjs, what bin/gt runs) when it is missing or older than any source file. */
export async function ensureBuiltCli(): Promise<void> {
  let built = 0;
  try {
    built = Math.min(statSync(join(ROOT, 'dist/bundle/gt.cjs')).mtimeMs, statSync(join(ROOT, 'dist/bundle/gt-lazy.cjs')).mtimeMs);
  } catch {
    // not built yet
  }
  if (built < newestMtime(join(ROOT, 'src'))) await promisify(execFile)(process.execPath, ['scripts/bundle-cli.mjs'], { cwd: ROOT });
}
