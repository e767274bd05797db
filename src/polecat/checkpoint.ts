import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { GastownError } from '../errors.js';
import { gitIdentityEnv, type GitIdentity } from './git-identity.js';
import { tail } from './run-process.js';
import { runGitText } from '../ledger/run-git.js';
import { retryOnGitLock } from './runner/rig-remote.js';
import { runInSandbox, type Sandbox, type SandboxSpec } from './sandbox/sandbox.js';

export interface CheckpointOptions {
  /** Where the workspace's git runs: the agent's sandbox. */
  sandbox: Sandbox;
  spec: SandboxSpec;
  /** The rig; the commits are collected into its `refs/heads/<branch>`. */
  rigDir: string;
  branch: string;
  /** Commits the rig already has for this workspace: its start and the last tip collected. */
  known: string[];
  /** The commit message; trailers are appended (`Gastown-Bead: ...`). */
  message: string;
  identity: GitIdentity;
  trailers: Record<string, string>;
  /** Where the bundle is written (a directory the sandbox does not show). */
  scratchDir: string;
  signal?: AbortSignal;
}

export interface CheckpointResult {
  /** The rig's `refs/heads/<branch>` afterwards (the last known commit when nothing was new). */
  tip: string;
  /** False when the workspace held nothing the rig did not have. */
  collected: boolean;
}

// Everything that reads the workspace's git config (agent-writable) runs in the sandbox: no
// hooks, no fsmonitor, no signing program; `add` and `commit` print nothing on the bundle's stdout.
const COMMIT_AND_BUNDLE = [
  'set -e',
  '{',
  '  git -c core.hooksPath=/dev/null -c core.fsmonitor=false add -A',
  '  if ! git -c core.fsmonitor=false diff --cached --quiet; then',
  '    git -c core.hooksPath=/dev/null -c core.fsmonitor=false -c commit.gpgSign=false commit --quiet --no-verify -F -',
  '  fi',
  '} 1>&2',
  'set -- HEAD',
  'for known in $GASTOWN_KNOWN; do set -- "$@" "^$known"; done',
  'exec git bundle create - "$@"',
].join('\n');

/**
 * Commits the workspace and brings the new commits into the rig, without the runner ever
 * running git on the agent's repository (its config, hooks and attributes are the agent's):
 * 1. in the sandbox: `git add -A`, commit when the index changed (identity and trailers from
 *    the runner, hooks off), then `git bundle create - HEAD ^known...` to the runner's file;
 * 2. on the trusted side: read the bundle's header (one ref, HEAD), feed its pack to the
 *    rig's `git index-pack --strict --fix-thin` (fsck: a tree holding `.git`, a broken link
 *    and the like are refused), check HEAD is a commit connected to what the rig has, and
 *    point `refs/heads/<branch>` at it.
 * Nothing new (an empty bundle) leaves the branch where it was.
 */
export async function checkpoint(opts: CheckpointOptions): Promise<CheckpointResult> {
  const last = opts.known[opts.known.length - 1]!;
  const bundle = path.join(opts.scratchDir, 'checkpoint.bundle');
  const out = await open(bundle, 'w', 0o600);
  let run;
  try {
    const env = {
      ...opts.spec.env,
      ...gitIdentityEnv(opts.identity),
      GASTOWN_KNOWN: opts.known.join(' '),
      LC_ALL: 'C',
    };
    run = await runInSandbox(opts.sandbox, { ...opts.spec, env }, ['sh', '-c', COMMIT_AND_BUNDLE], {
      stdin: withTrailers(opts.message, opts.trailers),
      stdoutFd: out.fd,
      timeoutMs: 10 * 60_000,
      signal: opts.signal,
    });
  } finally {
    await out.close();
  }
  try {
    if (run.exitCode !== 0) {
      if (/Refusing to create empty bundle/.test(run.output)) return { tip: last, collected: false };
      throw new GastownError(
        'gastown_git',
        `checkpoint in the workspace failed (${run.aborted ? 'aborted' : `exit ${run.exitCode ?? run.signal}`}): ${tail(run.output, 1000)}`,
      );
    }
    const { head, packOffset } = await readBundleHeader(bundle);
    await indexPack(opts.rigDir, bundle, packOffset);
    // A commit (^{commit} fails on anything else) whose every object the rig now has.
    const connected = await runGitText(['rev-list', '--quiet', '--objects', `${head}^{commit}`, '--not', ...opts.known], {
      cwd: opts.rigDir,
      okCodes: [0, 128],
    });
    if (connected.exitCode !== 0)
      throw new GastownError('gastown_git', `the workspace's HEAD ${head} is not a complete commit history: refused`);
    await retryOnGitLock(() => runGitText(['update-ref', `refs/heads/${opts.branch}`, head], { cwd: opts.rigDir }));
    return { tip: head, collected: true };
  } finally {
    await rm(bundle, { force: true });
  }
}

function withTrailers(message: string, trailers: Record<string, string>): string {
  const lines = Object.entries(trailers).map(([k, v]) => `${k}: ${v}`);
  return `${message.trim() || 'checkpoint'}\n\n${lines.join('\n')}\n`;
}

const HEADER_LIMIT = 64 * 1024;

/** The bundle's HEAD and where its pack starts; anything but a v2/v3 bundle of one ref HEAD is refused. */
async function readBundleHeader(file: string): Promise<{ head: string; packOffset: number }> {
  const fh = await open(file, 'r');
  let text: string;
  try {
    const buf = Buffer.alloc(HEADER_LIMIT);
    const { bytesRead } = await fh.read(buf, 0, HEADER_LIMIT, 0);
    text = buf.subarray(0, bytesRead).toString('latin1');
  } finally {
    await fh.close();
  }
  const end = text.indexOf('\n\n');
  const lines = end < 0 ? [] : text.slice(0, end).split('\n');
  const refs = lines.slice(1).filter((l) => !l.startsWith('-') && !l.startsWith('@'));
  const m = refs.length === 1 ? /^([0-9a-f]{40}|[0-9a-f]{64}) HEAD$/.exec(refs[0]!) : null;
  if (!/^# v[23] git bundle$/.test(lines[0] ?? '') || !m)
    throw new GastownError('gastown_git', 'the workspace produced something other than a bundle of its HEAD: refused');
  return { head: m[1]!, packOffset: end + 2 };
}

/** The bundle's pack into the rig's object store, checked object by object (`--strict`). */
function indexPack(rigDir: string, file: string, offset: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['-C', rigDir, 'index-pack', '--stdin', '--fix-thin', '--strict'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new GastownError('gastown_git', `the workspace's commits were refused (git index-pack --strict): ${stderr.trim()}`)),
    );
    child.stdin.on('error', () => undefined);
    createReadStream(file, { start: offset }).on('error', reject).pipe(child.stdin);
  });
}

/**
 * Pushes the polecat's branch from the rig, and only it: an explicit refspec
 * `refs/heads/<branch>:refs/heads/<branch>` for a `polecat/<name>/<bead>` branch, no tags,
 * no hooks of the rig, never forced (a rewritten history is the remote's to refuse).
 */
export async function pushPolecatBranch(rigDir: string, remote: string, branch: string): Promise<void> {
  if (!/^polecat\/[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/.test(branch))
    throw new GastownError('gastown_forbidden', `refusing to push ${branch}: a runner pushes only polecat/<name>/<bead>`);
  await runGitText(['-c', 'push.followTags=false', 'push', '--quiet', '--no-verify', remote, `refs/heads/${branch}:refs/heads/${branch}`], {
    cwd: rigDir,
  });
}
