/**
 * Counts the git processes this test process starts: a `git` earlier on PATH that writes
 * its arguments to a log and then runs the real git. For tests that hold a code path to a
 * number of git round trips (each costs a process, and over a network a round trip).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp-repo.js';

export interface GitCallLog {
  /** The git commands started since the last `take()` (or since `start`), each as its arguments joined by spaces. */
  take(): string[];
  stop(): void;
}

export function logGitCalls(): GitCallLog {
  const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  const dir = tempDir('git-call-log');
  const log = join(dir.path, 'calls.log');
  writeFileSync(log, '');
  const shim = join(dir.path, 'git');
  writeFileSync(shim, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${real}' "$@"\n`);
  chmodSync(shim, 0o755);
  const path = process.env.PATH;
  process.env.PATH = `${dir.path}:${path ?? ''}`;
  let seen = 0;
  return {
    take() {
      const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
      const fresh = lines.slice(seen);
      seen = lines.length;
      return fresh;
    },
    stop() {
      process.env.PATH = path;
      dir.cleanup();
    },
  };
}
