import { closeSync, constants, lstatSync, openSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * `rm -rf` of a polecat's workspace that no symlink can redirect, even one swapped in while
 * it runs. Under the user sandbox the runner (root) deletes a tree the agent's user owns, and
 * a process the agent left running could replace a directory with a symlink between the
 * check and the descent (a path-based recursive delete, fs.rm's included, would then delete
 * through it, as root). So each directory is opened with O_NOFOLLOW and its entries are
 * reached through `/proc/self/fd/<fd>/<name>`: unlink and rmdir never follow the last
 * component, and the directory is the one opened, not whatever the path names now.
 * A directory refilled meanwhile stays (its rmdir fails); a missing `target` is no error.
 */
export function removeTree(target: string): void {
  let st;
  try {
    st = lstatSync(target);
  } catch {
    return;
  }
  if (!st.isDirectory()) {
    unlinkSync(target);
    return;
  }
  const fd = openSync(target, DIR_FLAGS);
  try {
    empty(fd);
  } finally {
    closeSync(fd);
  }
  rmdirSync(target);
}

function empty(dirFd: number): void {
  const base = `/proc/self/fd/${dirFd}`;
  for (const name of readdirSync(base)) {
    const at = `${base}/${name}`;
    let st;
    try {
      st = lstatSync(at);
    } catch {
      continue;
    }
    if (!st.isDirectory()) {
      try {
        unlinkSync(at);
      } catch {
        // gone already
      }
      continue;
    }
    let fd: number;
    try {
      fd = openSync(at, DIR_FLAGS);
    } catch {
      // Swapped for a symlink (ELOOP) since the lstat: remove the link itself.
      try {
        unlinkSync(at);
      } catch {
        // gone already
      }
      continue;
    }
    try {
      empty(fd);
    } finally {
      closeSync(fd);
    }
    try {
      rmdirSync(at);
    } catch {
      // refilled or swapped meanwhile: left, and the parent's rmdir says so
    }
  }
}
