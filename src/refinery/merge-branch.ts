import { existsSync } from 'node:fs';
import { pickPassThrough } from '../polecat/agents/agent-env.js';
import { fetchBranches, refSha, type RigRemote } from '../polecat/runner/rig-remote.js';
import { runGit } from '../polecat/run-git.js';
import { runProcess, tail } from '../polecat/run-process.js';

export interface MergeBranchOptions {
  repoDir: string;
  /** The Refinery's own worktree (created on first use, detached HEAD). */
  workdir: string;
  remote: RigRemote;
  branch: string;
  gate: string | null;
  gateTimeoutMs: number;
  /** Bytes of gate output kept (the tail, where failures show). */
  outputCapBytes?: number;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
}

export type MergeOutcome =
  | { ok: true; sha: string }
  | { ok: false; reason: 'conflict' | 'gate' | 'missing'; output: string }
  /** The default branch moved while we worked (someone else pushed): try again on the next pass. */
  | { ok: false; reason: 'raced'; output: string };

/**
 * The Refinery's whole git side for one branch. Its commits are its own (identity pinned by
 * config) and it bypasses hooks: the pre-push guard belongs to polecat worktrees, and the
 * Refinery is the one thing allowed to push the default branch.
 */
const REFINERY_GIT = ['-c', 'user.name=Gas Town Refinery', '-c', 'user.email=refinery@gastown.local', '-c', 'core.hooksPath=/dev/null'];

/**
 * 1. fetch the default branch and the polecat branch;
 * 2. in the refinery worktree, rebase the branch onto the default branch (conflict: abort);
 * 3. run the gate command with capped output (non-zero: refuse);
 * 4. push HEAD to the default branch without force (a moved branch is a race, not a failure);
 * 5. fast-forward the local default branch (and its checkout, when clean).
 */
export async function mergeBranch(opts: MergeBranchOptions): Promise<MergeOutcome> {
  const { repoDir, workdir, remote } = opts;
  const git = (cwd: string, args: string[], okCodes = [0]) => runGit(cwd, [...REFINERY_GIT, ...args], { okCodes });
  await fetchBranches(repoDir, remote, [opts.branch]);
  const base = `${remote.tracking}${remote.defaultBranch}`;
  const head = `${remote.tracking}${opts.branch}`;
  // One rev-parse for both ends (a process per git call is most of a merge's cost).
  const tips = await runGit(repoDir, ['rev-parse', `${base}^{commit}`, `${head}^{commit}`], { okCodes: [0, 1, 128] });
  const [baseSha = null, headSha] = tips.stdout.trim().split('\n');
  if (tips.exitCode !== 0 || !headSha) return { ok: false, reason: 'missing', output: `branch ${opts.branch} is not on ${remote.remote}` };
  if (!existsSync(workdir)) {
    // --force instead of a prune: a prune here could drop a polecat worktree being added meanwhile.
    await git(repoDir, ['worktree', 'add', '--force', '--detach', '--quiet', workdir, base]);
  }
  await git(workdir, ['checkout', '--quiet', '--detach', '--force', headSha]);
  // Untracked files come only from a gate run (build output): clear them before the next one.
  if (opts.gate) await git(workdir, ['clean', '-fdxq']);
  const rebase = await git(workdir, ['rebase', '--quiet', base], [0, 1, 128]);
  if (rebase.exitCode !== 0) {
    await git(workdir, ['rebase', '--abort'], [0, 1, 128]);
    return { ok: false, reason: 'conflict', output: tail(`${rebase.stdout}\n${rebase.stderr}`, 4000) };
  }
  if (opts.gate) {
    opts.log(`gate: ${opts.gate}`);
    const gate = await runProcess('sh', ['-c', opts.gate], {
      cwd: workdir,
      env: { ...pickPassThrough(opts.env), GASTOWN_GATE: '1' },
      timeoutMs: opts.gateTimeoutMs,
      outputCapBytes: opts.outputCapBytes ?? 16 * 1024,
    });
    if (gate.exitCode !== 0) {
      const why = gate.timedOut ? `timed out after ${opts.gateTimeoutMs} ms` : `exited with ${gate.exitCode ?? gate.signal}`;
      return { ok: false, reason: 'gate', output: `gate \`${opts.gate}\` ${why}\n${tail(gate.output, 4000)}` };
    }
  }
  const sha = (await git(workdir, ['rev-parse', 'HEAD'])).stdout.trim();
  const push = await git(workdir, ['push', '--quiet', '--no-verify', remote.remote, `HEAD:refs/heads/${remote.defaultBranch}`], [0, 1, 128]);
  if (push.exitCode !== 0) return { ok: false, reason: 'raced', output: tail(push.stderr, 2000) };
  // Keep the tracking ref current even for a URL remote (a named remote updates it on push).
  await git(repoDir, ['update-ref', `${remote.tracking}${remote.defaultBranch}`, sha]);
  await advanceLocalBranch(repoDir, remote.defaultBranch, sha, baseSha);
  return { ok: true, sha };
}

/**
 * Moves the local default branch to `sha` when that is a fast-forward. Where the branch is
 * checked out (the person's own checkout of the rig), only a clean tree is fast-forwarded,
 * like `git pull --ff-only`; otherwise the remote alone moves and the person pulls later.
 */
export async function advanceLocalBranch(repoDir: string, branch: string, sha: string, _old: string | null): Promise<boolean> {
  const local = await refSha(repoDir, `refs/heads/${branch}`);
  if (local === sha) return true;
  if (local) {
    const ff = await runGit(repoDir, ['merge-base', '--is-ancestor', local, sha], { okCodes: [0, 1] });
    if (ff.exitCode !== 0) return false;
  }
  const checkout = await worktreeOf(repoDir, branch);
  if (!checkout) {
    await runGit(repoDir, ['update-ref', `refs/heads/${branch}`, sha, ...(local ? [local] : [])]);
    return true;
  }
  const merged = await runGit(checkout, [...REFINERY_GIT, 'merge', '--ff-only', '--quiet', sha], { okCodes: [0, 1, 128] });
  return merged.exitCode === 0;
}

async function worktreeOf(repoDir: string, branch: string): Promise<string | null> {
  const { stdout } = await runGit(repoDir, ['worktree', 'list', '--porcelain']);
  let current: string | null = null;
  let bare = false;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('worktree ')) {
      current = line.slice(9);
      bare = false;
    } else if (line === 'bare') bare = true;
    else if (line === `branch refs/heads/${branch}` && current && !bare) return current;
  }
  return null;
}
