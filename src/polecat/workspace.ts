import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { GastownError } from '../errors.js';
import { polecatBranch } from '../town/ids.js';
import type { GitIdentity } from './git-identity.js';
import { removeTree } from './remove-tree.js';
import { runGitText } from '../ledger/run-git.js';

export interface CreateWorkspaceOptions {
  /** The rig (the runner's own clone): where the start point is read from. */
  repoDir: string;
  /** Directory that holds every polecat's workspace. */
  root: string;
  polecat: string;
  beadId: string;
  /** The rig's ref the work starts from: the pushed polecat branch when resuming, else the default branch. */
  startRef: string;
  identity: GitIdentity;
  /** Directory holding the commit-msg and pre-push hooks (shown read-only in the sandbox). */
  hooksDir: string;
}

export interface PolecatWorkspace {
  /** `<root>/<polecat>-<bead>`: holds `repo` and `home`; removed as a whole. */
  dir: string;
  /** The agent's clone, checked out on `branch`. */
  path: string;
  /** The polecat's private HOME. */
  home: string;
  branch: string;
  /** The commit the workspace started at (the rig has it). */
  start: string;
}

// Names end up in branch names, directory names and shell-visible config: keep them boring.
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function checkPolecatNames(polecat: string, beadId: string): void {
  for (const [field, value] of [
    ['polecat', polecat],
    ['beadId', beadId],
  ] as const) {
    if (!SAFE_NAME.test(value))
      throw new GastownError('gastown_bad_input', `invalid ${field} '${value}': letters, digits, '.', '_' and '-' only`, {
        [field]: value,
      });
  }
}

/**
 * A fresh workspace for one polecat on one bead: a repository of its own, not a worktree of
 * the rig, so nothing the agent does in it reaches the rig's refs, config or hooks.
 * 1. remove whatever a dead runner left at `<root>/<polecat>-<bead>` (uncommitted files are
 *    not trusted to be whole: work resumes from commits);
 * 2. `git init`, then fetch only `startRef` from the rig into `polecat/<name>/<bead>` (its
 *    history and nothing else: no ledger refs, no other branches, no remote, no credentials;
 *    objects are copied, not shared, so the rig's object store stays out of the sandbox);
 * 3. check it out and write the workspace's config: gastown.*, the polecat's identity and
 *    core.hooksPath (trailers on the agent's own commits).
 * Runs on the trusted side before the agent exists: the rig is only read (upload-pack).
 */
export async function createWorkspace(opts: CreateWorkspaceOptions): Promise<PolecatWorkspace> {
  checkPolecatNames(opts.polecat, opts.beadId);
  const branch = polecatBranch(opts.polecat, opts.beadId);
  const dir = path.resolve(opts.root, `${opts.polecat}-${opts.beadId}`);
  const repo = path.join(dir, 'repo');
  const home = path.join(dir, 'home');
  await removeWorkspace(dir);
  try {
    await mkdir(home, { recursive: true });
    await runGitText(['init', '--quiet', `--initial-branch=${branch}`, repo], { cwd: dir });
    // --update-head-ok: the unborn branch HEAD names is the one being fetched.
    await runGitText(
      [
        'fetch',
        '--quiet',
        '--no-tags',
        '--no-write-fetch-head',
        '--update-head-ok',
        path.resolve(opts.repoDir),
        `+${opts.startRef}:refs/heads/${branch}`,
      ],
      { cwd: repo },
    );
    await runGitText(['reset', '--quiet', '--hard'], { cwd: repo });
    // One append instead of a `git config` process per key (the file is new and ours).
    const sections = {
      gastown: { polecat: opts.polecat, bead: opts.beadId, branch },
      user: { name: opts.identity.name, email: opts.identity.email },
      core: { hooksPath: path.resolve(opts.hooksDir) },
    };
    await appendFile(path.join(repo, '.git', 'config'), configText(sections));
    const start = (await runGitText(['rev-parse', 'HEAD'], { cwd: repo })).stdout.trim();
    return { dir, path: repo, home, branch, start };
  } catch (err) {
    await removeWorkspace(dir).catch(() => undefined);
    throw err;
  }
}

/** Removes a workspace (its commits are in the rig by then, or lost with the attempt). Idempotent. */
export async function removeWorkspace(dir: string): Promise<void> {
  // Never a path-based recursive delete: under the user sandbox the tree is the agent's (see remove-tree.ts).
  removeTree(dir);
}

/** Git config text: every value quoted (`\\` and `"` escaped); a value git cannot hold (a newline) is refused. */
function configText(sections: Record<string, Record<string, string>>): string {
  const lines: string[] = [];
  for (const [section, entries] of Object.entries(sections)) {
    lines.push(`[${section}]`);
    for (const [key, value] of Object.entries(entries)) {
      if (/[\r\n\0]/.test(value)) throw new GastownError('gastown_bad_input', `${section}.${key} cannot hold a line break`);
      lines.push(`\t${key} = "${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`);
    }
  }
  return `${lines.join('\n')}\n`;
}
