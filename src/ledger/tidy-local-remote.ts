import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gitEnv, runGit } from './run-git.js';

/** A push of this many refs packs the remote's refs at once (a rig's first sync, an import). */
const MANY_REFS = 1000;
/** Otherwise once a directory the push wrote into holds this many loose refs. */
const LOOSE_MAX = 100;

/**
 * Packs the refs of a remote on this machine (local mode's bare remote; `dir` is its git
 * directory, null for a network remote) after a push of many refs, or once a directory
 * the push wrote refs into holds a hundred loose ref files. `git receive-pack` writes every
 * ref it takes as a loose file, and nothing in git packs them again on its own (`gc --auto`
 * counts objects, not refs): a remote that took a rig's 10,000 beads in one push kept
 * 10,000 loose ref files, and every fetch naming one bead then made its upload-pack read
 * that whole directory (90 ms of a 240 ms `gt sync`; 2.6 ms packed). Counting the remote's
 * own loose files (one directory listing per directory pushed to) rather than this clone's
 * pushes costs no write of a counter on every push, and sees what every clone pushing there
 * left, not only this one. A hosted remote (GitHub) packs its own refs. `git pack-refs` is
 * what `git gc` runs on any repository while others push to it: it locks what it packs.
 * Returns whether it packed.
 */
export async function tidyLocalRemote(dir: string | null, pushedRefs: string[], pushed = pushedRefs.length): Promise<boolean> {
  if (!dir) return false;
  if (pushed < MANY_REFS && !pushedRefs.some(crowded(dir))) return false;
  // In the remote's directory, whatever repository this process was started for.
  const env = gitEnv({ GIT_DIR: undefined, GIT_WORK_TREE: undefined, GIT_OBJECT_DIRECTORY: undefined, GIT_COMMON_DIR: undefined });
  const { code } = await runGit(['pack-refs', '--all'], { cwd: dir, env, okCodes: [1, 128] }).catch(() => ({ code: -1 }));
  return code === 0;
}

/** Whether the directory of a pushed ref in the remote holds LOOSE_MAX loose refs (each directory looked at once). */
function crowded(dir: string): (ref: string) => boolean {
  const seen = new Set<string>();
  return (ref) => {
    const sub = join(dir, dirname(ref));
    if (seen.has(sub)) return false;
    seen.add(sub);
    try {
      return readdirSync(sub).filter((n) => !n.endsWith('.lock')).length >= LOOSE_MAX;
    } catch {
      return false; // gone (packed meanwhile) or not a files ref store: nothing to pack here
    }
  };
}
