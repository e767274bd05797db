import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

/**
 * The repository's common git directory (shared by all worktrees), found without spawning
 * git: on the CLI's hot paths a process costs more than the work.
 */
export function findGitCommonDir(start: string): string | null {
  let dir = resolve(start);
  for (;;) {
    const dotGit = join(dir, '.git');
    if (existsSync(dotGit)) {
      if (statSync(dotGit).isDirectory()) return dotGit;
      // A worktree: `.git` is a file pointing at <common>/worktrees/<name>, which has `commondir`.
      const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'));
      if (!m) return null;
      const wt = isAbsolute(m[1]!.trim()) ? m[1]!.trim() : resolve(dir, m[1]!.trim());
      const common = join(wt, 'commondir');
      if (existsSync(common)) {
        const rel = readFileSync(common, 'utf8').trim();
        return isAbsolute(rel) ? rel : resolve(wt, rel);
      }
      return wt;
    }
    // A bare repository (the app's mirrors): HEAD and objects/ right here.
    if (existsSync(join(dir, 'HEAD')) && existsSync(join(dir, 'objects')) && existsSync(join(dir, 'refs'))) return dir;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}
