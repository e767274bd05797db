import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { GastownError } from '../errors.js';
import { anthropicFromEnv } from '../model/anthropic.js';
import { agentFromSettings } from '../polecat/runner/agent-from-settings.js';
import type { ProgressBoard } from '../polecat/runner/progress-board.js';
import { runRunner, type RunnerSummary } from '../polecat/runner/run-runner.js';
import { runGitText } from '../ledger/run-git.js';
import { detectSandbox } from '../polecat/sandbox/detect-sandbox.js';
import { createNoSandbox } from '../polecat/sandbox/no-sandbox.js';
import { Rig } from '../rig/rig.js';
import { slingGoal } from '../rig/sling-goal.js';
import type { Convoy } from '../town/types.js';
import { DEMO_GOAL, SAMPLE_PROJECT } from './sample-project.js';
import { goalPlanner } from '../mayor/goal-planner.js';

export interface RunDemoOptions {
  /** Where to build the scratch town; default a new temp dir. Must be empty or absent. */
  dir?: string;
  env: NodeJS.ProcessEnv;
  progress: ProgressBoard;
  now?: () => Date;
}

export interface DemoResult {
  dir: string;
  rigDir: string;
  remote: string;
  convoy: Convoy;
  planner: 'model' | 'checklist';
  agent: 'script' | 'builtin';
  summary: RunnerSummary;
  seconds: number;
}

const DEMO_GIT = ['-c', 'user.name=Gas Town demo', '-c', 'user.email=demo@gastown.local'];

/**
 * The local town end to end, in one scratch directory:
 * 1. a bare remote and a rig cloned from it holding the sample "calc" project;
 * 2. `gt init` with the gate `sh test.sh` and three polecats at once;
 * 3. the Mayor plans the goal (the model when ANTHROPIC_API_KEY is set, else the checklist);
 * 4. a runner with the local Refinery works until the town is idle: polecats in parallel,
 *    merges in dependency order, the convoy lands.
 */
export async function runDemo(opts: RunDemoOptions): Promise<DemoResult> {
  const started = Date.now();
  const dir = opts.dir ? resolve(opts.dir) : mkdtempSync(join(tmpdir(), 'gastown-demo-'));
  if (existsSync(dir) && readdirSync(dir).length > 0)
    throw new GastownError('gastown_bad_input', `${dir} is not empty: give the demo a new or empty directory`);
  mkdirSync(dir, { recursive: true });
  const remote = join(dir, 'remote.git');
  const rigDir = join(dir, 'rig');
  const say = (line: string) => opts.progress.note(line);

  say(`building a scratch town in ${dir}`);
  await runGitText(['init', '--quiet', '--bare', '-b', 'main', remote], { cwd: dir });
  await runGitText(['init', '--quiet', '-b', 'main', rigDir], { cwd: dir });
  for (const [file, text] of Object.entries(SAMPLE_PROJECT)) {
    mkdirSync(dirname(join(rigDir, file)), { recursive: true });
    writeFileSync(join(rigDir, file), text);
  }
  await runGitText(['add', '-A'], { cwd: rigDir });
  await runGitText([...DEMO_GIT, 'commit', '--quiet', '-m', 'calc: a tiny calculator'], { cwd: rigDir });
  await runGitText(['remote', 'add', 'origin', remote], { cwd: rigDir });
  await runGitText(['push', '--quiet', '-u', 'origin', 'main'], { cwd: rigDir });

  const model = anthropicFromEnv(opts.env);
  const agent = model ? 'builtin' : 'script';
  Rig.init(rigDir, {
    remote: 'origin',
    gate: 'sh test.sh',
    concurrency: 3,
    heartbeatMs: 2_000,
    leaseMs: 60_000,
    agent: { kind: agent, maxTurns: 30, tokenBudget: 200_000, timeoutMs: 10 * 60_000 },
  });
  const rig = await Rig.open({ repoDir: rigDir, actor: 'demo', now: opts.now });
  try {
    writeFileSync(join(dir, 'goal.md'), DEMO_GOAL);
    say(`the Mayor plans goal.md with the ${model ? `model planner (${model.model})` : 'checklist planner'}`);
    const planned = await slingGoal(rig.withActor('mayor'), { goal: DEMO_GOAL, plan: goalPlanner({ model }) });
    for (const b of planned.beads) say(`  ${b.id}  ${b.title}${b.blockedBy.length ? `  (after ${b.blockedBy.join(', ')})` : ''}`);
    say(`convoy ${planned.convoy.id}: ${planned.beads.length} beads; 3 polecats (${agent} agent), Refinery gate "sh test.sh"`);

    // The demo runs only its own sample beads in a scratch town: without bubblewrap it warns
    // and goes on unsandboxed rather than fail a first try (`gt runner` refuses instead).
    // bwrap only: the demo merges with the local Refinery, whose gate the user sandbox cannot run.
    const found = await detectSandbox(opts.env, 'bwrap');
    if (!found.available)
      say(`warning: ${found.reason}: the demo's agents run unsandboxed (${found.hint}; gt runner refuses to run without it)`);
    const summary = await runRunner({
      sandbox: found.available ? found.sandbox : createNoSandbox(),
      rig,
      agentFactory: agentFromSettings(rig.settings.agent, opts.env),
      concurrency: 3,
      untilIdle: true,
      progress: opts.progress,
      env: opts.env,
      pollMs: 50,
      runnerId: 'demo-runner',
    });
    const convoy = (await rig.ledger.get<Convoy>('convoys', planned.convoy.id))!.value;
    return { dir, rigDir, remote, convoy, planner: planned.planner, agent, summary, seconds: (Date.now() - started) / 1000 };
  } finally {
    rig.close();
  }
}
