import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ledger } from './ledger.js';
import { localRemoteDir } from './local-remote-dir.js';
import { gitEnv, runGit } from './run-git.js';

/** A push of this many refs packs the remote's refs at once (a rig's first sync, an import). */
const MANY_REFS = 1000;
/** Otherwise every this many pushes from one clone. */
const EVERY_PUSHES = 100;

/**
 * Packs the refs of a remote on this machine (local mode's bare remote) after a push of many
 * refs, and every hundred pushes from this clone. `git receive-pack` writes every ref it
 * takes as a loose file, and nothing in git packs them again on its own (`gc --auto` counts
 * objects, not refs): a remote that took a rig's 10,000 beads in one push kept 10,000 loose
 * ref files, and every fetch naming one bead then made its upload-pack read that whole
 * directory (90 ms of a 240 ms `gt sync`; 2.6 ms packed). A hosted remote (GitHub) packs
 * its own refs; for one on a network URL this does nothing. `git pack-refs` is what `git gc`
 * runs on any repository while others push to it: it locks what it packs. Returns whether it
 * packed.
 */
export async function tidyLocalRemote(ledger: Ledger, remote: string, pushed: number): Promise<boolean> {
  const file = join(ledger.gitDir, 'gastown', 'remote-pushes');
  let count = 0;
  try {
    count = Number.parseInt(readFileSync(file, 'utf8'), 10) || 0;
  } catch {
    /* first push from this clone */
  }
  count++;
  const due = pushed >= MANY_REFS || count >= EVERY_PUSHES;
  try {
    mkdirSync(join(ledger.gitDir, 'gastown'), { recursive: true });
    // Two processes counting at once may lose a count: the cadence is approximate, never wrong.
    writeFileSync(file, String(due ? 0 : count));
  } catch {
    /* without a count, only large pushes pack */
  }
  if (!due) return false;
  const dir = await localRemoteDir(ledger.repoDir, remote).catch(() => null);
  if (!dir) return false;
  // In the remote's directory, whatever repository this process was started for.
  const env = gitEnv({ GIT_DIR: undefined, GIT_WORK_TREE: undefined, GIT_OBJECT_DIRECTORY: undefined, GIT_COMMON_DIR: undefined });
  const { code } = await runGit(['pack-refs', '--all'], { cwd: dir, env, okCodes: [1, 128] }).catch(() => ({ code: -1 }));
  return code === 0;
}
