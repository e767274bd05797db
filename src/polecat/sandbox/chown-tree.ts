import { constants } from 'node:fs';
import { open, readdir, type FileHandle } from 'node:fs/promises';

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
// O_NONBLOCK: a FIFO the agent planted must not block the runner's open.
const ENTRY_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Gives every directory and regular file under `top` (and `top` itself) to uid:gid, as root,
 * in a tree the agent's user may be changing at the same moment (a process it left running).
 * So nothing is resolved by path twice: each directory is opened with O_NOFOLLOW and its
 * entries are reached through `/proc/self/fd/<fd>/<name>` (the directory already opened, not
 * the path, which the agent could have swapped for a symlink since); each entry is opened
 * with O_NOFOLLOW and changed through its handle. Symlinks are left as they are (never
 * followed); a file with more than one link is left too (a hard link the agent made to a
 * file outside would otherwise be given away). Children go before their directory, so while
 * a directory is still the runner's nobody else can write in it. `skip` names entries of
 * `top` not walked (`.git`, which only the agent's own git writes after the first pass).
 */
export async function chownTree(top: string, uid: number, gid: number, skip: readonly string[] = []): Promise<void> {
  const fh = await open(top, DIR_FLAGS);
  try {
    await walk(fh, uid, gid, skip);
    if ((await fh.stat()).uid !== uid) await fh.chown(uid, gid);
  } finally {
    await fh.close();
  }
}

async function walk(dir: FileHandle, uid: number, gid: number, skip: readonly string[]): Promise<void> {
  const base = `/proc/self/fd/${dir.fd}`;
  for (const name of await readdir(base)) {
    if (skip.includes(name)) continue;
    let child: FileHandle;
    try {
      child = await open(`${base}/${name}`, ENTRY_FLAGS);
    } catch {
      continue; // a symlink (ELOOP), or gone since readdir: nothing to give
    }
    try {
      const st = await child.stat();
      if (st.isDirectory()) {
        // The handle is the directory itself (O_RDONLY opens one): walked through it, not by path.
        await walk(child, uid, gid, []);
        if (st.uid !== uid) await child.chown(uid, gid);
      } else if (st.isFile() && st.nlink === 1 && st.uid !== uid) {
        await child.chown(uid, gid);
      }
    } finally {
      await child.close().catch(() => undefined);
    }
  }
}
