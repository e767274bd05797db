import { GastownError, isGastownError } from '../../errors.js';
import type { Rig } from '../../rig/rig.js';
import { localRemoteDir } from '../../ledger/local-remote-dir.js';
import { runGitText } from '../../ledger/run-git.js';

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
    const { stdout } = await runGitText(['remote'], { cwd: rig.repoDir, okCodes: [0] });
    if (!stdout.split('\n').includes(remote))
      throw new GastownError(
        'gastown_config',
        `the rig has no git remote named ${remote}: polecats push their branches there (add one or run gt init --remote <url>)`,
      );
  }
  return {
    remote,
    tracking: isName ? `refs/remotes/${remote}/` : 'refs/remotes/gastown-remote/',
    defaultBranch: rig.settings.defaultBranch,
  };
}

/**
 * One fetch of the default branch plus the given branches (each as a prefix pattern, so a
 * branch that does not exist yet is simply not fetched instead of failing the fetch).
 */
export async function fetchBranches(repoDir: string, r: RigRemote, branches: string[] = []): Promise<void> {
  const specs = [
    `+refs/heads/${r.defaultBranch}:${r.tracking}${r.defaultBranch}`,
    ...branches.map((b) => `+refs/heads/${b}*:${r.tracking}${b}*`),
  ];
  // Polecats and the Refinery fetch at once and race for the tracking refs' lock files.
  await retryOnGitLock(() => runGitText(['fetch', '--quiet', '--no-tags', r.remote, ...specs], { cwd: repoDir })).catch((err: unknown) => {
    if (isGastownError(err, 'gastown_git') && err.message.includes(`couldn't find remote ref refs/heads/${r.defaultBranch}`))
      throw new GastownError(
        'gastown_config',
        `${r.remote} has no branch ${r.defaultBranch}, the rig's default branch: set it with gt init --default-branch <name> (gt doctor shows the remote's)`,
      );
    throw err;
  });
}

export async function refSha(repoDir: string, ref: string): Promise<string | null> {
  const { stdout, exitCode } = await runGitText(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], {
    cwd: repoDir,
    okCodes: [0, 1, 128],
  });
  return exitCode === 0 ? stdout.trim() : null;
}

/**
 * Several polecats, the Refinery and other runner processes share one clone; git fails fast
 * when another process holds a lock file ("cannot lock ref", "could not lock config file").
 * Such a failure is transient: wait a moment and try again rather than fail the bead.
 */
export async function retryOnGitLock<T>(fn: () => Promise<T>, tries = 6): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= tries || !isGastownError(err, 'gastown_git') || !/\block\b|\.lock\b/i.test(err.message)) throw err;
      await new Promise((r) => setTimeout(r, 20 * i + Math.random() * 30));
    }
  }
}

/** What the sandbox must hide even under a directory it shows: the rig, its git directory, a local remote, the runner's HOME. */
export async function pathsToHide(rig: Rig, remote: RigRemote, env: Record<string, string | undefined>): Promise<string[]> {
  // The remote's directory when it is on this machine (a path or file:// URL): the same resolution sync uses.
  const remoteDir = await localRemoteDir(rig.repoDir, remote.remote);
  return [rig.repoDir, rig.gitDir, env.HOME, remoteDir].filter((p): p is string => !!p);
}
