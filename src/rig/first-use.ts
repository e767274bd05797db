import { runGit } from '../ledger/run-git.js';
import { findGitCommonDir } from './find-git-dir.js';
import { readRigSettings, type RigSettings } from './rig-settings.js';
import { Rig } from './rig.js';

/**
 * What a rig's settings start from when `gt init` (or a teammate's first `gt sync`) records
 * them: the remote `origin` when the clone has one, that remote's default branch (`master`
 * is as good as `main`), and the ledger prefix of `.github/gastown.yml` (read by Rig.init).
 * Options given on the command line always win over what is found here.
 */
export async function recordRigSettings(repoDir: string, changes: Partial<RigSettings> = {}, now = new Date()): Promise<RigSettings> {
  const gitDir = findGitCommonDir(repoDir);
  const stored = gitDir ? readRigSettings(gitDir) : null;
  const found: Partial<RigSettings> = {};
  const remote = changes.remote ?? stored?.remote ?? ((await hasRemote(repoDir, 'origin')) ? 'origin' : null);
  if (remote && !changes.remote && !stored?.remote) found.remote = remote;
  // Decided once, when the rig is first recorded or its remote changes: later a person's
  // `gt init --default-branch` is the way to change it (and `gt doctor` says when it is wrong).
  const remoteChanged = !!changes.remote && changes.remote !== stored?.remote;
  if (!changes.defaultBranch && (!stored || remoteChanged)) {
    const branch = (remote ? await remoteDefaultBranch(repoDir, remote) : null) ?? (stored ? null : await localDefaultBranch(repoDir));
    if (branch) found.defaultBranch = branch;
  }
  return Rig.init(repoDir, { ...found, ...changes }, now);
}

/** Whether the repository has a git remote of this name. */
export async function hasRemote(repoDir: string, name: string): Promise<boolean> {
  const { stdout } = await runGit(['remote'], { cwd: repoDir, okCodes: [0, 128] });
  return stdout.toString().split('\n').includes(name);
}

/**
 * The branch a remote's HEAD names: from the clone's `refs/remotes/<name>/HEAD` when git
 * clone recorded it, else asked of the remote (`ls-remote --symref`). Null when the remote
 * cannot be reached or has no HEAD (an empty repository).
 */
export async function remoteDefaultBranch(repoDir: string, remote: string): Promise<string | null> {
  if (/^[A-Za-z0-9._-]+$/.test(remote)) {
    const local = await runGit(['symbolic-ref', '--quiet', `refs/remotes/${remote}/HEAD`], { cwd: repoDir, okCodes: [1, 128] });
    const m = /^refs\/remotes\/[^/]+\/(.+)$/.exec(local.stdout.toString().trim());
    if (local.code === 0 && m) return m[1]!;
  }
  const asked = await runGit(['ls-remote', '--symref', remote, 'HEAD'], { cwd: repoDir, okCodes: [1, 2, 128] }).catch(() => null);
  const m = asked && /^ref: refs\/heads\/(\S+)\s+HEAD$/m.exec(asked.stdout.toString());
  return m ? m[1]! : null;
}

/** Without a remote: `main` or `master` if one exists, else the branch checked out (even unborn). */
async function localDefaultBranch(repoDir: string): Promise<string | null> {
  for (const name of ['main', 'master']) {
    const r = await runGit(['rev-parse', '--verify', '--quiet', `refs/heads/${name}`], { cwd: repoDir, okCodes: [1, 128] });
    if (r.code === 0) return name;
  }
  const head = await runGit(['symbolic-ref', '--quiet', '--short', 'HEAD'], { cwd: repoDir, okCodes: [1, 128] });
  return head.code === 0 ? head.stdout.toString().trim() || null : null;
}
