import { GastownError } from '../../errors.js';
import type { Rig } from '../../rig/rig.js';
import { runGit } from '../run-git.js';

/** Where a rig's code lives remotely, and where its branches are tracked locally. */
export interface RigRemote {
  /** Remote name or URL, as `git fetch`/`git push` take it. */
  remote: string;
  /** Local namespace of fetched branches, e.g. `refs/remotes/origin/`. */
  tracking: string;
  defaultBranch: string;
}

/**
 * The rig's code remote: settings.remote (a name or URL) or `origin`. A URL gets its own
 * tracking namespace so fetched branches never overwrite a remote the person configured.
 */
export async function rigRemote(rig: Rig): Promise<RigRemote> {
  const remote = rig.settings.remote ?? 'origin';
  const isName = /^[A-Za-z0-9._-]+$/.test(remote);
  if (isName) {
    const { stdout } = await runGit(rig.repoDir, ['remote'], { okCodes: [0] });
    if (!stdout.split('\n').includes(remote))
      throw new GastownError('gastown_config', `the rig has no git remote named ${remote}: polecats push their branches there (add one or run gt init --remote <url>)`);
  }
  return { remote, tracking: isName ? `refs/remotes/${remote}/` : 'refs/remotes/gastown-remote/', defaultBranch: rig.settings.defaultBranch };
}

/**
 * One fetch of the default branch plus the given branches (each as a prefix pattern, so a
 * branch that does not exist yet is simply not fetched instead of failing the fetch).
 */
export async function fetchBranches(repoDir: string, r: RigRemote, branches: string[] = []): Promise<void> {
  const specs = [`+refs/heads/${r.defaultBranch}:${r.tracking}${r.defaultBranch}`, ...branches.map((b) => `+refs/heads/${b}*:${r.tracking}${b}*`)];
  await runGit(repoDir, ['fetch', '--quiet', '--no-tags', r.remote, ...specs]);
}

export async function refSha(repoDir: string, ref: string): Promise<string | null> {
  const { stdout, exitCode } = await runGit(repoDir, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { okCodes: [0, 1, 128] });
  return exitCode === 0 ? stdout.trim() : null;
}
