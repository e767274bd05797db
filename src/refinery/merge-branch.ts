import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, rm } from 'node:fs/promises';
import { GastownError } from '../errors.js';
import { fetchBranches, refSha, retryOnGitLock, type RigRemote } from '../polecat/runner/rig-remote.js';
import { runGitText } from '../ledger/run-git.js';
import { tail, type RunProcessResult } from '../polecat/run-process.js';
import { runInSandbox, type Sandbox, type SandboxSpec } from '../polecat/sandbox/sandbox.js';

/** The sandbox the gate runs in; its workspace is the Refinery's worktree. */
export interface GateSandbox {
  sandbox: Sandbox;
  spec: Omit<SandboxSpec, 'workspace'>;
}

export interface MergeBranchesOptions {
  repoDir: string;
  /** The Refinery's own worktree (created on first use, detached HEAD). */
  workdir: string;
  /** Where the gate runs (it runs polecats' code); needed when there is a gate. */
  gateSandbox: GateSandbox | null;
  remote: RigRemote;
  /** Polecat branches in merge order (dependency order). */
  branches: string[];
  gate: string | null;
  gateTimeoutMs: number;
  /** Bytes of gate output kept (the tail, where failures show). */
  outputCapBytes?: number;
  log: (line: string) => void;
}

export interface MergeBranchesOutcome {
  /** Branches now on the default branch, each with the sha its rebased tip got. */
  merged: { branch: string; sha: string }[];
  /** Branches that do not rebase cleanly onto what came before them. */
  conflicts: { branch: string; output: string }[];
  missing: string[];
  /** The gate failed on the batch: nothing was pushed (the caller retries one by one). */
  gateFailed: string | null;
  /** The default branch moved while we worked (someone else pushed): nothing was pushed. */
  raced: boolean;
}

/**
 * The Refinery's commits are its own (identity pinned by config) and it bypasses hooks: the
 * pre-push guard belongs to polecat worktrees, and the Refinery is the one thing allowed to
 * push the default branch.
 */
const REFINERY_GIT = ['-c', 'user.name=Gas Town Refinery', '-c', 'user.email=refinery@gastown.local', '-c', 'core.hooksPath=/dev/null'];

/**
 * Merges a batch of polecat branches as one fast-forward of the default branch:
 * 1. one fetch of the default branch and every branch;
 * 2. in the refinery worktree, rebase each branch onto the result so far (a conflict skips
 *    that branch only);
 * 3. run the gate once on the result, output capped (a failure pushes nothing);
 * 4. push the result to the default branch without force (a moved branch is a race);
 * 5. fast-forward the local default branch (and its checkout, when clean).
 * A batch of one is the plain one-branch merge; batching saves a fetch, a gate run and a
 * push per extra branch, which is most of what a merge costs.
 */
export async function mergeBranches(opts: MergeBranchesOptions): Promise<MergeBranchesOutcome> {
  const { repoDir, workdir, remote } = opts;
  const out: MergeBranchesOutcome = { merged: [], conflicts: [], missing: [], gateFailed: null, raced: false };
  const git = (cwd: string, args: string[], okCodes = [0]) => runGitText([...REFINERY_GIT, ...args], { cwd, okCodes });
  await fetchBranches(repoDir, remote, opts.branches);
  const base = `${remote.tracking}${remote.defaultBranch}`;
  // One rev-parse for every tip (a process per git call is most of a merge's cost).
  const refs = [base, ...opts.branches.map((b) => `${remote.tracking}${b}`)];
  const listed = (await runGitText(['for-each-ref', '--format=%(refname) %(objectname)', ...refs], { cwd: repoDir })).stdout;
  const tipOf = new Map(
    listed
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ') as [string, string]),
  );
  const shas = refs.map((r) => tipOf.get(r) ?? null);
  const baseSha = shas[0];
  if (!baseSha) throw new Error(`${base} does not exist: fetch ${remote.remote} ${remote.defaultBranch} failed`);
  if (!existsSync(workdir)) {
    // --force instead of a prune: a prune here could drop a polecat worktree being added meanwhile.
    await git(repoDir, ['worktree', 'add', '--force', '--detach', '--quiet', workdir, baseSha]);
  }
  // Untracked files come only from a gate run (build output): clear them before the next one.
  if (opts.gate) await git(workdir, ['clean', '-fdxq']);
  let head = baseSha;
  for (const [i, branch] of opts.branches.entries()) {
    const tip = shas[i + 1];
    if (!tip) {
      out.missing.push(branch);
      continue;
    }
    await git(workdir, ['checkout', '--quiet', '--detach', '--force', tip]);
    const rebase = await git(workdir, ['rebase', '--quiet', head], [0, 1, 128]);
    if (rebase.exitCode !== 0) {
      await git(workdir, ['rebase', '--abort'], [0, 1, 128]);
      out.conflicts.push({ branch, output: tail(`${rebase.stdout}\n${rebase.stderr}`, 4000) });
      continue;
    }
    head = (await git(workdir, ['rev-parse', 'HEAD'])).stdout.trim();
    out.merged.push({ branch, sha: head });
  }
  if (out.merged.length === 0) return out;
  if (opts.gate) {
    opts.log(`gate: ${opts.gate}`);
    await git(workdir, ['checkout', '--quiet', '--detach', '--force', head]);
    const gate = await runGate(opts, opts.gate);
    if (gate.exitCode !== 0) {
      const why = gate.timedOut ? `timed out after ${opts.gateTimeoutMs} ms` : `exited with ${gate.exitCode ?? gate.signal}`;
      return { ...out, merged: [], gateFailed: `gate \`${opts.gate}\` ${why}\n${tail(gate.output, 4000)}`, conflicts: out.conflicts };
    }
  }
  const push = await git(
    repoDir,
    ['push', '--quiet', '--no-verify', remote.remote, `${head}:refs/heads/${remote.defaultBranch}`],
    [0, 1, 128],
  );
  if (push.exitCode !== 0) {
    // Rejected because the default branch moved (someone pushed meanwhile) is a race to retry;
    // any other refusal (permissions, a server hook) is an error a person must see.
    await fetchBranches(repoDir, remote);
    if ((await refSha(repoDir, base)) !== baseSha) return { ...out, merged: [], raced: true };
    throw new GastownError(
      'gastown_git',
      `the Refinery could not push ${remote.defaultBranch} to ${remote.remote}: ${tail(push.stderr, 1000)}`,
    );
  }
  // Keep the tracking ref current even for a URL remote (a named remote updates it on push).
  // The push is what counts; local refs trail it and catch up on the next fetch, so a lock
  // held by a polecat's fetch must not turn a merge into a failure.
  await retryOnGitLock(() => git(repoDir, ['update-ref', `${remote.tracking}${remote.defaultBranch}`, head])).catch(() => undefined);
  await retryOnGitLock(() => advanceLocalBranch(repoDir, remote.defaultBranch, head, baseSha)).catch(() => undefined);
  return out;
}

/**
 * Runs the gate in the sandbox, on the Refinery's worktree (the gate runs the polecats' code:
 * their test scripts). Its HOME is emptied first. The worktree's `.git` file is the one
 * thing in reach that the Refinery's own git would trust afterwards: when the gate changed
 * it, the worktree is removed and the gate counts as failed.
 */
async function runGate(opts: MergeBranchesOptions, gate: string): Promise<RunProcessResult> {
  if (!opts.gateSandbox) throw new GastownError('gastown_config', 'the Refinery has a gate but no sandbox to run it in');
  const { sandbox, spec } = opts.gateSandbox;
  const pointer = `${opts.workdir}/.git`;
  const before = await readFile(pointer, 'utf8');
  await rm(spec.home, { recursive: true, force: true });
  await mkdir(spec.home, { recursive: true });
  const run = await runInSandbox(sandbox, { ...spec, workspace: opts.workdir }, ['sh', '-c', gate], {
    timeoutMs: opts.gateTimeoutMs,
    outputCapBytes: opts.outputCapBytes ?? 16 * 1024,
  });
  const st = await lstat(pointer).catch(() => null);
  if (st?.isFile() && (await readFile(pointer, 'utf8')) === before) return run;
  await rm(opts.workdir, { recursive: true, force: true });
  await runGitText(['worktree', 'prune'], { cwd: opts.repoDir });
  return {
    ...run,
    exitCode: 1,
    output: `${run.output}\nrefused: the gate changed the Refinery worktree's .git (the worktree was removed)`,
  };
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
    const ff = await runGitText(['merge-base', '--is-ancestor', local, sha], { cwd: repoDir, okCodes: [0, 1] });
    if (ff.exitCode !== 0) return false;
  }
  const checkout = await worktreeOf(repoDir, branch);
  if (!checkout) {
    await runGitText(['update-ref', `refs/heads/${branch}`, sha, ...(local ? [local] : [])], { cwd: repoDir });
    return true;
  }
  const merged = await runGitText([...REFINERY_GIT, 'merge', '--ff-only', '--quiet', sha], { cwd: checkout, okCodes: [0, 1, 128] });
  return merged.exitCode === 0;
}

async function worktreeOf(repoDir: string, branch: string): Promise<string | null> {
  const { stdout } = await runGitText(['worktree', 'list', '--porcelain'], { cwd: repoDir });
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
