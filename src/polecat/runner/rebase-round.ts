/**
 * The runner's rebase mode (issue 13 part 3), entered before any agent runs when the round the
 * bead is on asks for a rebase (a conflict round: a sibling merged and this branch no longer
 * merges cleanly). On the trusted side, in a temporary worktree of the rig (never in the
 * agent's workspace):
 * - the pushed branch is rebased onto the default branch; when that is clean the result is
 *   pushed (force-with-lease on this polecat's own branch, expecting what was pushed) and the
 *   round needs no agent;
 * - otherwise the branch's whole change is applied onto the default branch as one squashed
 *   three-way merge; a clean squash is the rebased branch; a conflicted one is the agent's to
 *   resolve: the workspace starts on the default branch with those files (git's conflict
 *   markers in the conflicted ones), the prompt names the conflicts, and the round counts
 *   against `maxRevisions` only when the agent's commit touches files that were not in
 *   conflict (it had to edit code, not just resolve).
 */
import { mkdtemp, mkdir, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { GastownError } from '../../errors.js';
import { gitEnv, runGit, runGitText } from '../../ledger/run-git.js';
import { REVISION_MAIL } from '../../town/revision.js';
import type { MailMessage } from '../../town/types.js';
import { gitIdentityEnv, type GitIdentity } from '../git-identity.js';
import { retryOnGitLock, type RigRemote } from './rig-remote.js';

export type RebasePlan =
  /** The branch already holds the default branch's tip: nothing to do. */
  | { kind: 'current'; tip: string }
  /** Rebased without a conflict: `tip` is the new branch head (already pushed). */
  | { kind: 'clean'; tip: string; squashed: boolean }
  /** The agent resolves `conflicts`; the workspace starts at `base` with `seed`'s files. */
  | { kind: 'conflict'; base: string; seed: string; conflicts: string[] };

/** Whether this piece of feedback asks for a rebase (a conflict round, as rig/revise-bead.ts writes it). */
export function isConflictFeedback(m: Pick<MailMessage, 'type' | 'body'>): boolean {
  return m.type === REVISION_MAIL && /^conflict feedback on /.test(m.body);
}

export interface RebaseInput {
  rigDir: string;
  remote: RigRemote;
  /** `polecat/<name>/<bead>`. */
  branch: string;
  /** The branch's pushed head (what the lease expects on the remote). */
  pushed: string;
  identity: GitIdentity;
  /** Subject of a squashed rebase's commit. */
  title: string;
  trailers: Record<string, string>;
}

/**
 * Rebases `pushed` onto the remote's default branch (fetched by the caller) and pushes a clean
 * result; see the file comment. The rig's `refs/heads/<branch>` follows a clean result.
 */
export async function rebaseOntoDefault(input: RebaseInput): Promise<RebasePlan> {
  const { rigDir, remote, branch, pushed } = input;
  const base = await revParse(rigDir, `${remote.tracking}${remote.defaultBranch}`);
  if ((await runGitText(['merge-base', '--is-ancestor', base, pushed], { cwd: rigDir, okCodes: [0, 1] })).exitCode === 0)
    return { kind: 'current', tip: pushed };
  const dir = await mkdtemp(join(tmpdir(), 'gastown-rebase-'));
  const wt = join(dir, 'wt');
  // No hooks, no signing, no rerere: the rig's settings must not steer this runner-made commit.
  const git = (args: string[], okCodes: number[] = [0]) =>
    runGitText(['-c', 'core.hooksPath=/dev/null', '-c', 'commit.gpgSign=false', '-c', 'rerere.enabled=false', ...args], {
      cwd: wt,
      env: { ...gitIdentityEnv(input.identity), GIT_EDITOR: 'true', GIT_SEQUENCE_EDITOR: 'true' },
      okCodes,
    });
  await retryOnGitLock(() => runGitText(['worktree', 'add', '--quiet', '--detach', wt, pushed], { cwd: rigDir }));
  try {
    let plan: RebasePlan;
    const rebased = await git(['rebase', '--quiet', '--onto', base, await mergeBase(rigDir, base, pushed)], [0, 1]);
    if (rebased.exitCode === 0) plan = { kind: 'clean', tip: (await git(['rev-parse', 'HEAD'])).stdout.trim(), squashed: false };
    else {
      await git(['rebase', '--abort'], [0, 1, 128]);
      await git(['checkout', '--quiet', '--detach', base]);
      const squash = await git(['merge', '--squash', '--no-commit', pushed], [0, 1]);
      const conflicts = (await git(['diff', '--name-only', '--diff-filter=U'])).stdout.split('\n').filter(Boolean);
      await git(['add', '-A']);
      const seed = (await git(['write-tree'])).stdout.trim();
      if (squash.exitCode === 0 && conflicts.length === 0) {
        const message = `${input.title} (rebased onto ${remote.defaultBranch})\n\n${Object.entries(input.trailers)
          .map(([k, v]) => `${k}: ${v}`)
          .join('\n')}\n`;
        plan = { kind: 'clean', tip: await commitTree(wt, seed, base, message, input), squashed: true };
      } else plan = { kind: 'conflict', base, seed, conflicts };
    }
    if (plan.kind === 'clean') {
      await retryOnGitLock(() => runGitText(['update-ref', `refs/heads/${branch}`, plan.tip], { cwd: rigDir }));
      await pushWithLease(rigDir, remote, branch, pushed);
    }
    return plan;
  } finally {
    await runGitText(['worktree', 'remove', '--force', wt], { cwd: rigDir, okCodes: [0, 128] }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    await runGitText(['worktree', 'prune'], { cwd: rigDir, okCodes: [0, 128] }).catch(() => undefined);
  }
}

async function commitTree(wt: string, tree: string, parent: string, message: string, input: RebaseInput): Promise<string> {
  const out = await runGit(['commit-tree', tree, '-p', parent], { cwd: wt, input: message, env: gitEnv(gitIdentityEnv(input.identity)) });
  return out.stdout.toString('utf8').trim();
}

/**
 * Pushes this polecat's own branch over a rewritten history: only `polecat/<name>/<bead>`, and
 * only if the remote still holds `expected` (a lease: a push someone made since is not lost).
 */
export async function pushWithLease(rigDir: string, remote: RigRemote, branch: string, expected: string): Promise<void> {
  if (!/^polecat\/[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/.test(branch))
    throw new GastownError('gastown_forbidden', `refusing to push ${branch}: a runner pushes only polecat/<name>/<bead>`);
  const ref = `refs/heads/${branch}`;
  await runGitText(
    [
      '-c',
      'push.followTags=false',
      'push',
      '--quiet',
      '--no-verify',
      `--force-with-lease=${ref}:${expected}`,
      remote.remote,
      `${ref}:${ref}`,
    ],
    { cwd: rigDir },
  );
}

/**
 * Writes the seed's files (the squashed merge, conflict markers and all) into the agent's
 * workspace, which starts at `base`: what differs between the two trees is written or removed.
 */
export async function seedWorkspace(rigDir: string, workspace: string, base: string, seed: string): Promise<void> {
  const root = await realpath(workspace);
  const diff = (await runGitText(['diff-tree', '-r', '-z', '--no-renames', base, seed], { cwd: rigDir })).stdout.split('\0');
  for (let i = 0; i + 1 < diff.length; i += 2) {
    const meta = diff[i]!.split(' ');
    const path = diff[i + 1]!;
    const [mode, sha, status] = [meta[1]!, meta[3]!, meta[4]!];
    const file = join(workspace, path);
    await rm(file, { force: true });
    if (status === 'D') continue;
    await mkdir(dirname(file), { recursive: true });
    // The runner writes here, not the agent: never through a symlink that leads out of the workspace.
    const parent = await realpath(dirname(file));
    if (parent !== root && !parent.startsWith(root + sep))
      throw new GastownError('gastown_forbidden', `refusing to write ${path}: its directory leads out of the workspace`);
    const blob = (await runGit(['cat-file', 'blob', sha], { cwd: rigDir })).stdout;
    if (mode === '120000') await symlink(blob.toString('utf8'), file);
    else await writeFile(file, blob, { mode: mode === '100755' ? 0o755 : 0o644 });
  }
}

/** Files the agent's result (`tip`) changed beyond the seed's conflicts: non-empty means the round counts. */
export async function touchedBeyondConflicts(rigDir: string, seed: string, tip: string, conflicts: readonly string[]): Promise<string[]> {
  const { stdout } = await runGitText(['diff-tree', '-r', '-z', '--name-only', '--no-renames', seed, `${tip}^{tree}`], { cwd: rigDir });
  const inConflict = new Set(conflicts);
  return stdout.split('\0').filter((p) => p && !inConflict.has(p));
}

/** Conflicted files that still hold git's conflict markers at `tip` (the agent did not resolve them). */
export async function unresolved(rigDir: string, tip: string, conflicts: readonly string[]): Promise<string[]> {
  if (!conflicts.length) return [];
  const { stdout } = await runGitText(['grep', '-l', '-E', '^(<<<<<<<|>>>>>>>)( |$)', tip, '--', ...conflicts], {
    cwd: rigDir,
    okCodes: [0, 1],
  });
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.slice(tip.length + 1));
}

/** What the agent is told on top of the conflict round's feedback. */
export function conflictNote(defaultBranch: string, conflicts: readonly string[]): string {
  return [
    `Rebasing onto ${defaultBranch} stopped on conflicts in: ${conflicts.join(', ')}.`,
    `The workspace now holds ${defaultBranch} with this branch's whole change applied; the files above carry git's conflict`,
    'markers (<<<<<<< ======= >>>>>>>). Resolve each one keeping the intent of both sides, and change nothing else unless',
    'the merged code needs it to work: a round that edits files outside the conflicts counts as a revision round.',
  ].join('\n');
}

async function revParse(dir: string, ref: string): Promise<string> {
  return (await runGitText(['rev-parse', '--verify', `${ref}^{commit}`], { cwd: dir })).stdout.trim();
}

async function mergeBase(dir: string, a: string, b: string): Promise<string> {
  return (await runGitText(['merge-base', a, b], { cwd: dir })).stdout.trim();
}
