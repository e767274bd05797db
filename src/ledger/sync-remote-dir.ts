import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Ledger } from './ledger.js';
import { localRemoteDir } from './local-remote-dir.js';

/**
 * Where a named remote was found to live, kept with the sync state: its directory when it is
 * on this machine, null for a network remote (never its URL, which may carry a token), and
 * the identity of the git config files it was resolved under.
 */
export interface RecordedRemoteDir {
  /** The remote's name and the identity of every config file git reads for it. */
  config: string;
  dir: string | null;
}

/**
 * The directory of the sync's remote when it is on this machine, else null, and what to
 * record so the next sync need not ask again. A path or URL is resolved here without git;
 * a name costs `git remote get-url` (a process: 3 ms, and loading node's child_process,
 * in a sync that otherwise starts none when nothing changed), so its answer is reused while
 * the configuration it came from is the same files: the repository's config and the global
 * and system files git would read, each by identity (device, inode, size, both times to the
 * nanosecond; git writes config to a lock file and renames it over the old one, so any
 * change is a new inode with new times), with no config from the environment and, when it
 * was resolved, no include (whose targets this does not follow). A remote's URL lives in
 * those files: `git remote set-url`, or an `insteadOf` added anywhere, asks git again.
 */
export async function syncRemoteDir(
  ledger: Ledger,
  remote: string,
  recorded?: RecordedRemoteDir,
): Promise<{ dir: string | null; record: RecordedRemoteDir | null }> {
  if (!/^[A-Za-z0-9._-]+$/.test(remote)) {
    const dir = await localRemoteDir(ledger.repoDir, remote).catch(() => null);
    return { dir, record: null };
  }
  const files = configFiles(ledger);
  if (!files) return { dir: await localRemoteDir(ledger.repoDir, remote).catch(() => null), record: null };
  const config = identity(remote, files);
  if (config && recorded?.config === config && (recorded.dir === null || typeof recorded.dir === 'string'))
    return { dir: recorded.dir, record: recorded };
  const dir = await localRemoteDir(ledger.repoDir, remote).catch(() => null);
  // Recorded only when nothing changed while git read it, and no file includes another.
  const ok = config !== null && identity(remote, files) === config && !files.some(includesOthers);
  return { dir, record: ok ? { config, dir } : null };
}

/** The config files `git remote get-url` reads, or null when config also comes from the environment. */
function configFiles(ledger: Ledger): string[] | null {
  const env = process.env;
  // Config given in the environment (`git -c`, GIT_CONFIG_COUNT) applies to one process only.
  if (env.GIT_CONFIG_PARAMETERS || env.GIT_CONFIG_COUNT || env.GIT_CONFIG) return null;
  const home = env.HOME ?? '';
  const files = [join(ledger.gitDir, 'config')];
  if (env.GIT_CONFIG_GLOBAL !== undefined) files.push(env.GIT_CONFIG_GLOBAL);
  else files.push(join(env.XDG_CONFIG_HOME || join(home, '.config'), 'git', 'config'), join(home, '.gitconfig'));
  if (!isTrue(env.GIT_CONFIG_NOSYSTEM)) files.push(env.GIT_CONFIG_SYSTEM ?? '/etc/gitconfig');
  return files;
}

/** The remote's name and each config file's identity ('-' when absent); null when one cannot be told. */
function identity(remote: string, files: string[]): string | null {
  const parts = [remote];
  for (const file of files) {
    try {
      const st = statSync(file, { bigint: true });
      parts.push(`${file}:${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'ENOTDIR') return null;
      parts.push(`${file}:-`);
    }
  }
  return parts.join('|');
}

/** An include (or per-worktree config) brings in files the identity does not cover. */
function includesOthers(file: string): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  return /^\s*\[\s*include/im.test(text) || /worktreeconfig/i.test(text);
}

function isTrue(v: string | undefined): boolean {
  return !!v && !/^(0|false|no|off)$/i.test(v);
}
