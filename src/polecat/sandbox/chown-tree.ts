import { closeSync, constants, fchownSync, fstatSync, lstatSync, openSync, readdirSync } from 'node:fs';

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
// O_NONBLOCK: a FIFO the agent planted must not block the runner's open.
const FILE_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Gives every directory and regular file under `top` (and `top` itself) to uid:gid, as root,
 * in a tree the agent's user may be changing at the same moment (a process it left running).
 * So nothing is resolved by path twice: each directory is opened with O_NOFOLLOW and its
 * entries are reached through `/proc/self/fd/<fd>/<name>` (the directory already opened, not
 * the path, which the agent could have swapped for a symlink since); an entry to change is
 * opened with O_NOFOLLOW, checked to be the one looked at, and changed through its handle.
 * Symlinks are left as they are (never followed); a file with more than one link is left too
 * (a hard link the agent made to a file outside would otherwise be given away). Children go
 * before their directory, so while a directory is still the runner's nobody else can write
 * in it. `skip` names entries of `top` not walked (`.git`, which only the agent's own git
 * writes after the first pass).
 *
 * Synchronous on purpose: one lstat per entry, and the promise API costs a thread-pool hop
 * per call (a 1,000-file workspace took 200 ms a command that way; see bench:polecat).
 */
export async function chownTree(top: string, uid: number, gid: number, skip: readonly string[] = []): Promise<void> {
  const fd = openSync(top, DIR_FLAGS);
  try {
    walk(fd, uid, gid, skip);
    if (fstatSync(fd).uid !== uid) fchownSync(fd, uid, gid);
  } finally {
    closeSync(fd);
  }
}

function walk(dirFd: number, uid: number, gid: number, skip: readonly string[]): void {
  const base = `/proc/self/fd/${dirFd}`;
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return;
  }
  for (const name of names) {
    if (skip.includes(name)) continue;
    const at = `${base}/${name}`;
    let st;
    try {
      st = lstatSync(at);
    } catch {
      continue; // gone since readdir
    }
    if (st.isDirectory()) {
      let fd: number;
      try {
        fd = openSync(at, DIR_FLAGS);
      } catch {
        continue; // swapped for a symlink (ELOOP) or gone
      }
      try {
        const now = fstatSync(fd);
        if (now.ino !== st.ino || now.dev !== st.dev) continue;
        walk(fd, uid, gid, []);
        if (now.uid !== uid) fchownSync(fd, uid, gid);
      } finally {
        closeSync(fd);
      }
    } else if (st.isFile() && st.uid !== uid) {
      let fd: number;
      try {
        fd = openSync(at, FILE_FLAGS);
      } catch {
        continue;
      }
      try {
        const now = fstatSync(fd);
        if (now.ino === st.ino && now.dev === st.dev && now.isFile() && now.nlink === 1) fchownSync(fd, uid, gid);
      } finally {
        closeSync(fd);
      }
    }
  }
}
