import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A file or directory shipped at the package root (hooks/, templates/). Found by walking up
 * from this module, because the module may be src/polecat/runner/ (tests, tsx),
 * dist/polecat/runner/ (compiled) or a chunk in dist/bundle/ (the bundled CLI).
 */
export function packagePath(relative: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, relative);
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error(`gastown: ${relative} not found above ${fileURLToPath(import.meta.url)}: the package is incomplete`);
    dir = up;
  }
}

/** The package's hooks/ directory (pre-push guard, commit-msg trailers) for polecat worktrees. */
export function packageHooksDir(): string {
  return dirname(packagePath('hooks/pre-push'));
}
