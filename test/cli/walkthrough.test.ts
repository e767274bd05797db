/**
 * The newcomer's walkthrough as one test, every step a real `bin/gt` process: a town, a rig
 * from a bare remote, a crew workspace, a conversation with the Mayor over a pipe (the model
 * a loopback double of the Messages API), the plan slung, a runner with the script agent
 * landing the convoy through the Refinery, what it cost, and no polecat branch left behind.
 */
import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, test } from 'vitest';
import type { Bead, Convoy } from '../../src/town/types.js';
import { ensureBuiltCli, ROOT } from '../helpers/built-dist.js';
import { git, repoWithRemote, tempDir, TEST_GIT_ENV } from '../helpers/temp-repo.js';
import {
  lastUserText,
  startAnthropicMessagesDouble,
  text,
  toolUse,
  type AnthropicMessagesDouble,
} from '../support/anthropic-messages-double.js';

let cleanup: (() => void) | null = null;
let double: AnthropicMessagesDouble | null = null;
beforeAll(ensureBuiltCli, 120_000);
afterEach(async () => {
  await double?.stop();
  cleanup?.();
  double = cleanup = null;
});

const GOAL = 'Add a greeting script that says hello, then a farewell one built on it';
const PLAN = {
  summary: 'A hello script first, then a farewell script that calls it.',
  beads: [
    {
      key: 'hello',
      title: 'Add the hello script',
      description: "Create hello.sh.\n\n```sh\nprintf '#!/bin/sh\\necho hello\\n' > hello.sh\n```\n",
      acceptance: ['hello.sh prints hello'],
      files: ['hello.sh'],
      blockedBy: [],
    },
    {
      key: 'bye',
      title: 'Add the farewell script',
      description:
        "Create bye.sh on top of hello.sh.\n\n```sh\ntest -f hello.sh\nprintf '#!/bin/sh\\nsh hello.sh\\necho bye\\n' > bye.sh\n```\n",
      acceptance: ['bye.sh prints hello then bye'],
      files: ['bye.sh'],
      blockedBy: ['hello'],
    },
  ],
  // More than the rig allows: the convoy gets the maximum, and says so.
  budget: { usd: 50 },
};

test('town init, rig add, crew add, mayor attach, runner: the convoy lands, its cost is shown, no polecat branch is left', async () => {
  const t = tempDir('walkthrough');
  cleanup = t.cleanup;
  const root = t.path;
  const { GT_ACTOR: _a, GT_TOWN: _t, ANTHROPIC_API_KEY: _k, ANTHROPIC_BASE_URL: _u, ...base } = TEST_GIT_ENV;
  const env = { ...base, HOME: join(root, 'home') };
  const gt = (cwd: string, args: string[], extra: NodeJS.ProcessEnv = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(join(ROOT, 'bin/gt'), args, { cwd, env: { ...env, ...extra }, timeout: 240_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
  const ok = async (cwd: string, args: string[], extra: NodeJS.ProcessEnv = {}) => {
    const r = await gt(cwd, args, extra);
    expect(r.code, `gt ${args.join(' ')}\n${r.stderr}`).toBe(0);
    return r;
  };

  // A project on a bare remote, as a newcomer would have one.
  const { remote, clone } = repoWithRemote(root, 'todo');
  writeFileSync(join(clone, 'README.md'), '# todo\nA tiny project.\n');
  git(clone, ['add', 'README.md']);
  git(clone, ['commit', '-q', '-m', 'readme']);
  git(clone, ['push', '-q', 'origin', 'main']);

  const town = join(root, 'gt');
  await ok(root, ['town', 'init', town]);
  await ok(town, ['rig', 'add', 'todo', remote]);
  const crew = JSON.parse((await ok(town, ['crew', 'add', 'me', '--json'])).stdout) as { dir: string };
  await ok(crew.dir, ['init', '--max-convoy-budget', '$5']);

  let planUsage = 0;
  double = await startAnthropicMessagesDouble([
    (r) => {
      expect(lastUserText(r)).toContain(GOAL);
      return [text('Here is a plan.'), toolUse('create_plan', PLAN)];
    },
    (r) => {
      expect(lastUserText(r)).toMatch(/Plan r1[\s\S]*└─ hello: Add the hello script\n {3}└─ bye: Add the farewell script/);
      return [text('Shall I sling it?')];
    },
    (r) => {
      expect(lastUserText(r)).toContain('yes');
      return [toolUse('sling_plan', {})];
    },
    (r) => {
      expect(lastUserText(r)).toMatch(/convoy cv-\w+ .* active: 2 beads/);
      return [text('Slung.')];
    },
  ]);
  const attach = spawn(join(ROOT, 'bin/gt'), ['mayor', 'attach'], {
    cwd: crew.dir,
    env: { ...env, ANTHROPIC_API_KEY: 'sk-ant-test-not-a-secret', ANTHROPIC_BASE_URL: double.baseURL },
  });
  let out = '';
  let err = '';
  attach.stdout.on('data', (d) => (out += d));
  attach.stderr.on('data', (d) => (err += d));
  for (const line of [GOAL, 'yes, sling it', 'y', 'exit']) attach.stdin.write(`${line}\n`);
  attach.stdin.end();
  expect(await new Promise((r) => attach.on('close', r)), err).toBe(0);
  expect(double.failures).toEqual([]);
  expect(double.remaining()).toBe(0);
  expect(out).toMatch(/Plan r1: A hello script first[\s\S]*budget asked: \$50\.00/);
  expect(out).toContain('sling plan r1 (2 beads)? [y/N]');
  expect(out).toContain('budget: $5.00 (clamped: the plan asked for $50.00; the repository allows at most $5.00)');
  expect(out).toContain('mayor> Slung.');
  // What the double reported for the Mayor's calls up to the sling (the convoy records what planning it cost).
  for (const req of double.requests.slice(0, 3)) planUsage += Math.ceil(JSON.stringify(req.messages).length / 4);
  expect(planUsage).toBeGreaterThan(0);

  // The runner works both beads in turn; the Refinery merges each, which readies the next.
  const run = await ok(crew.dir, ['runner', '--until-idle']);
  expect(run.stdout).toMatch(/merged/);

  const convoys = JSON.parse((await ok(crew.dir, ['convoy', 'list', '--json'])).stdout) as { convoy: Convoy }[];
  expect(convoys.map((c) => [c.convoy.status, c.convoy.budget, c.convoy.planner])).toEqual([['landed', { usd: 5 }, 'model']]);
  const beads = JSON.parse((await ok(crew.dir, ['bead', 'list', '--json'])).stdout) as Bead[];
  expect(beads.map((b) => b.status)).toEqual(['closed', 'closed']);
  // The work is on the remote's main.
  expect(git(remote, ['show', 'main:bye.sh'])).toContain('echo bye');

  // What it cost: the Mayor's planning as the API reported it (the script agent uses no model).
  const costs = await ok(crew.dir, ['costs']);
  expect(costs.stdout).toContain('no agent runs recorded');
  const planning = /planning \(the Mayor\): \$[\d.]+ \((\d+) tokens\)/.exec(costs.stdout);
  expect(planning, costs.stdout).not.toBeNull();
  const reported = JSON.parse((await ok(crew.dir, ['costs', '--json'])).stdout) as {
    planning: { inputTokens: number; outputTokens: number };
  };
  expect(reported.planning.inputTokens).toBe(planUsage);
  expect(Number(planning![1])).toBe(reported.planning.inputTokens + reported.planning.outputTokens);

  // No branches pile up: not on the remote, not in the rig, not in the crew's clone.
  const polecatBranches = (dir: string) =>
    git(dir, ['branch', '-a'])
      .split('\n')
      .filter((l) => l.includes('polecat/'));
  expect(polecatBranches(remote)).toEqual([]);
  expect(polecatBranches(join(town, 'todo', 'rig.git'))).toEqual([]);
  git(crew.dir, ['fetch', '-q', 'origin']);
  expect(polecatBranches(crew.dir)).toEqual([]);
}, 300_000);
