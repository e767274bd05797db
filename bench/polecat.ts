/**
 * Polecat orchestration benchmark, local mode: what the town itself costs per bead (claim,
 * workspace (clone + sandbox), checkpoint commit and push, finish, Refinery rebase + fast-forward + push +
 * close), with the script agent running one trivial step, so the figures are overhead.
 *
 *   npm run bench:polecat               # 20 beads, 4 polecats
 *   npm run bench:polecat -- 40 8       # other sizes
 *
 * Three runs on fresh towns: (1) end to end, runner with the in-process Refinery;
 * (2) the polecats alone (every bead ends in review); (3) the Refinery alone on those (one batched pass: one fetch, one gate, one push).
 * A baseline gives the cost of the step itself (one `bash -e -c`). Target: ≤ 300 ms per bead
 * end to end on a 2-core machine.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScriptAgent } from '../src/polecat/agents/script-agent.js';
import { runRunner } from '../src/polecat/runner/run-runner.js';
import { ensureAgentUser } from '../src/polecat/sandbox/agent-user.js';
import { requireSandbox } from '../src/polecat/sandbox/detect-sandbox.js';
import { createUserSandbox } from '../src/polecat/sandbox/user-sandbox.js';
import { runInSandbox } from '../src/polecat/sandbox/sandbox.js';
import { sandboxEnv } from '../src/polecat/sandbox/sandbox-env.js';
import { runGitText } from '../src/ledger/run-git.js';
import { refineryPass } from '../src/refinery/refinery-pass.js';
import { createBead } from '../src/rig/beads.js';
import { Rig } from '../src/rig/rig.js';

process.env.GIT_CONFIG_GLOBAL = '/dev/null';
process.env.GIT_CONFIG_NOSYSTEM = '1';
const [beadCount = 20, polecats = 4] = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);

async function town(): Promise<{ rig: Rig; cleanup(): void }> {
  const root = mkdtempSync(join(tmpdir(), 'gastown-bench-polecat-'));
  const remote = join(root, 'remote.git');
  const clone = join(root, 'rig');
  await runGitText(['init', '-q', '--bare', '-b', 'main', remote], { cwd: root });
  await runGitText(['init', '-q', '-b', 'main', clone], { cwd: root });
  await runGitText(['-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-q', '--allow-empty', '-m', 'seed'], { cwd: clone });
  await runGitText(['remote', 'add', 'origin', remote], { cwd: clone });
  await runGitText(['push', '-q', 'origin', 'main'], { cwd: clone });
  Rig.init(clone, { concurrency: polecats, heartbeatMs: 5_000, leaseMs: 60_000 });
  const rig = await Rig.open({ repoDir: clone, actor: 'bench' });
  for (let i = 0; i < beadCount; i++) await createBead(rig, { title: `bead ${i}`, body: `\`\`\`sh\necho ${i} > file-${i}.txt\n\`\`\`` });
  return { rig, cleanup: () => (rig.close(), rmSync(root, { recursive: true, force: true })) };
}

const agentFactory = () => createScriptAgent();
const perBead = (ms: number) => `${(ms / beadCount).toFixed(0).padStart(5)} ms/bead`;

async function endToEnd(): Promise<number> {
  const t = await town();
  try {
    const start = performance.now();
    const s = await runRunner({ rig: t.rig, agentFactory, concurrency: polecats, untilIdle: true, pollMs: 20 });
    const ms = performance.now() - start;
    if (s.merged.length !== beadCount) throw new Error(`merged ${s.merged.length} of ${beadCount}`);
    return ms;
  } finally {
    t.cleanup();
  }
}

async function split(): Promise<{ work: number; merge: number }> {
  const t = await town();
  try {
    let start = performance.now();
    const s = await runRunner({ rig: t.rig, agentFactory, concurrency: polecats, untilIdle: true, refinery: false, pollMs: 20 });
    const work = performance.now() - start;
    if (s.outcomes.filter((o) => o.outcome === 'in_review').length !== beadCount) throw new Error('not every bead reached review');
    start = performance.now();
    const pass = await refineryPass(t.rig, { env: process.env });
    const merge = performance.now() - start;
    if (pass.merged.length !== beadCount) throw new Error(`refinery merged ${pass.merged.length} of ${beadCount}`);
    return { work, merge };
  } finally {
    t.cleanup();
  }
}

function stepBaseline(): number {
  const n = 20;
  const start = performance.now();
  for (let i = 0; i < n; i++) spawnSync('bash', ['-e', '-c', 'echo 1 > /dev/null']);
  return (performance.now() - start) / n;
}

/** The same step in the polecat sandbox (bubblewrap): what the sandbox adds per agent command. */
async function sandboxedStep(): Promise<number> {
  const n = 20;
  const dir = mkdtempSync(join(tmpdir(), 'gastown-bench-sandbox-'));
  try {
    const [workspace, home] = [join(dir, 'repo'), join(dir, 'home')];
    mkdirSync(workspace);
    mkdirSync(home);
    const sandbox = await requireSandbox();
    const spec = { workspace, home, env: sandboxEnv({ source: process.env, allow: [], home }), network: false, readOnly: [], hide: [] };
    const start = performance.now();
    for (let i = 0; i < n; i++) await runInSandbox(sandbox, spec, ['bash', '-e', '-c', 'echo 1 > /dev/null']);
    return (performance.now() - start) / n;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The same step in the user sandbox (the fallback where bwrap cannot make namespaces):
 * setpriv, plus handing the workspace to the agent user before each command, which walks
 * it (all of it the first time, then everything but .git). Measured on a workspace of
 * `files` files. Null when this process is not root (the user sandbox needs root).
 */
async function userSandboxStep(files: number): Promise<{ step: number; first: number } | null> {
  if (process.getuid?.() !== 0) return null;
  const n = 20;
  const base = mkdtempSync(join(tmpdir(), 'gastown-bench-user-'));
  chmodSync(base, 0o711);
  try {
    const sandbox = createUserSandbox({ user: await ensureAgentUser(process.env), setpriv: '/usr/bin/setpriv', workspaceBase: base });
    const root = sandbox.workspaceRoot!('/bench/.git');
    const [workspace, home] = [join(root, 'nux-gt-1', 'repo'), join(root, 'nux-gt-1', 'home')];
    mkdirSync(join(workspace, '.git'), { recursive: true });
    mkdirSync(home);
    for (let d = 0; d < files / 100; d++) {
      mkdirSync(join(workspace, `dir${d}`));
      for (let f = 0; f < 100; f++) writeFileSync(join(workspace, `dir${d}`, `f${f}.txt`), 'x\n');
    }
    const spec = { workspace, home, env: sandboxEnv({ source: process.env, allow: [], home }), network: false, readOnly: [], hide: [] };
    let start = performance.now();
    await runInSandbox(sandbox, spec, ['true']);
    const first = performance.now() - start;
    start = performance.now();
    for (let i = 0; i < n; i++) await runInSandbox(sandbox, spec, ['bash', '-e', '-c', 'echo 1 > /dev/null']);
    return { step: (performance.now() - start) / n, first };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

const total = await endToEnd();
const { work, merge } = await split();
const step = stepBaseline();
const sandboxed = await sandboxedStep();
const user = await userSandboxStep(1000);
console.log(`polecat bench: ${beadCount} beads, ${polecats} polecats, local mode, script agent (1 step per bead)`);
console.log(`  end to end (runner + Refinery)   ${(total / 1000).toFixed(2).padStart(6)} s  ${perBead(total)}   target <= 300 ms/bead`);
console.log(`  polecats alone (to in_review)    ${(work / 1000).toFixed(2).padStart(6)} s  ${perBead(work)}   (${polecats} in parallel)`);
console.log(`  Refinery alone (one batch)      ${(merge / 1000).toFixed(2).padStart(6)} s  ${perBead(merge)}`);
console.log(`  the agent's step itself (bash)   ${step.toFixed(1).padStart(6)} ms per step (baseline)`);
console.log(`  the same step in the sandbox     ${sandboxed.toFixed(1).padStart(6)} ms per step (bubblewrap)`);
console.log(
  user
    ? `  the same step, user sandbox      ${user.step.toFixed(1).padStart(6)} ms per step (setpriv; workspace of 1,000 files, first handover ${user.first.toFixed(0)} ms)`
    : '  the same step, user sandbox          n/a (it needs a root runner)',
);
process.exit(total / beadCount <= 300 ? 0 : 1);
