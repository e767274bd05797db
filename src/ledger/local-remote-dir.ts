import { isAbsolute, resolve } from 'node:path';
import { runGit } from './run-git.js';

/**
 * The directory of a remote on this machine (a path or `file://` URL, given as such or as
 * the URL of a named remote), or null for a network remote (`https://`, `ssh://`, `host:path`).
 */
export async function localRemoteDir(repoDir: string, remote: string): Promise<string | null> {
  let url = remote;
  if (/^[A-Za-z0-9._-]+$/.test(url)) {
    const { stdout, code } = await runGit(['remote', 'get-url', url], { cwd: repoDir, okCodes: [2, 128] });
    // Not a configured remote: git takes the word as a path, so do we.
    if (code === 0) url = stdout.toString('utf8').trim();
  }
  if (url.startsWith('file://')) url = decodeURIComponent(url.slice('file://'.length));
  if (!url || /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url) || /^[^/]+:/.test(url)) return null;
  return isAbsolute(url) ? url : resolve(repoDir, url);
}
