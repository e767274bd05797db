import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hexDigest } from '../digest.js';
import type { Ledger } from './ledger.js';
import { localRemoteDir } from './local-remote-dir.js';

/**
 * Where a named remote was found to live, kept with the sync state: its directory when it is
 * on this machine, null for a network remote (never its URL, which may carry a token), and
 * a digest of the git configuration it was resolved under.
 */
export interface RecordedRemoteDir {
  /** The remote's name and a digest of every config file git reads for it; '' for a path or URL. */
  config: string;
  dir: string | null;
}

/**
 * The directory of the sync's remote when it is on this machine, else null, and what to
 * record so the next sync need not ask again. A path or URL is resolved here without git;
 * a name costs `git remote get-url` (a process: 3 ms, and loading node's child_process,
 * in a sync that otherwise starts none when nothing changed), so its answer is reused while
 * the configuration it came from is byte for byte the same: the repository's config, the
 * global and system files git would read, no config from the environment and no include
 * (whose targets this does not follow). A remote's URL lives in those files, so a `git
 * remote set-url` (or an `insteadOf` added anywhere) changes the digest and asks git again.
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
  const config = configDigest(ledger, remote);
  if (config && recorded?.config === config && (recorded.dir === null || typeof recorded.dir === 'string'))
    return { dir: recorded.dir, record: recorded };
  const dir = await localRemoteDir(ledger.repoDir, remote).catch(() => null);
  return { dir, record: config ? { config, dir } : null };
}

/** A digest of the config files `git remote get-url <remote>` reads, or null when they cannot be pinned down. */
function configDigest(ledger: Ledger, remote: string): string | null {
  const env = process.env;
  // Config given in the environment (`git -c`, GIT_CONFIG_COUNT) applies to this process only.
  if (env.GIT_CONFIG_PARAMETERS || env.GIT_CONFIG_COUNT || env.GIT_CONFIG) return null;
  const home = env.HOME ?? '';
  const files = [join(ledger.gitDir, 'config')];
  if (env.GIT_CONFIG_GLOBAL !== undefined) files.push(env.GIT_CONFIG_GLOBAL);
  else files.push(join(env.XDG_CONFIG_HOME || join(home, '.config'), 'git', 'config'), join(home, '.gitconfig'));
  if (!isTrue(env.GIT_CONFIG_NOSYSTEM)) files.push(env.GIT_CONFIG_SYSTEM ?? '/etc/gitconfig');
  const parts = [remote];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return null;
      text = '\u0000missing';
    }
    // An include (or per-worktree config) brings in files this digest does not cover.
    if (/^\s*\[\s*include/im.test(text) || /worktreeconfig/i.test(text)) return null;
    parts.push(file, text);
  }
  return hexDigest('sha256', parts.join('\u0000'));
}

function isTrue(v: string | undefined): boolean {
  return !!v && !/^(0|false|no|off)$/i.test(v);
}
