import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { allBeads } from '../../src/rig/beads.js';
import { readFeed } from '../../src/rig/feed.js';
import { startAnthropicDouble, textOf, type AnthropicDouble } from '../support/anthropic-double.js';
import { gt } from '../cli/run-gt.js';
import { git } from '../helpers/temp-repo.js';
import { gtx } from './run-gt-lazy.js';
import { makeTown, type Town } from './town-fixture.js';

let town: Town | undefined;
let model: AnthropicDouble | undefined;
const children: ReturnType<typeof spawn>[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  await model?.stop();
  town?.cleanup();
  model = town = undefined;
});

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'gt');

/** `gt runner` as its own process (the built CLI), as a person would start one per terminal. */
function runner(dir: string, id: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(BIN, ['runner', '--until-idle', '--no-dispatch', '--concurrency', '1', '--id', id], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the emergency stop', () => {
  it('stops two runners at their next checkpoint with work pushed, lets nothing be slung, and --release resumes', async () => {
    // The model keeps working (one file per turn, a little slow) until the test lets it finish.
    let mayFinish = false;
    const turns = new Map<string, number>();
    model = await startAnthropicDouble({
      reply: async (_turn, req) => {
        await new Promise((r) => setTimeout(r, 100));
        const bead = /gt-[0-9a-z]+/.exec(textOf(req.messages[0]!.content))![0];
        const n = (turns.get(bead) ?? 0) + 1;
        turns.set(bead, n);
        const usage = { input_tokens: 500, output_tokens: 50 };
        return mayFinish
          ? { content: [{ type: 'tool_use', name: 'finish', input: { summary: 'finished' } }], usage }
          : { content: [{ type: 'tool_use', name: 'write_file', input: { path: `${bead}-${n}.txt`, content: `${n}\n` } }], usage };
      },
    });
    town = await makeTown({ concurrency: 3, agent: { kind: 'builtin', maxTurns: 400, tokenBudget: 100_000_000, timeoutMs: 120_000 } });
    const env = { ...process.env, ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: model.baseURL, GT_ACTOR: 'tester' };
    const ids: string[] = [];
    for (const title of ['First', 'Second', 'Third'])
      ids.push((await gt(town.clone, ['bead', 'create', title, '--json'])).json<{ id: string }>().id);
    const [a, b, c] = ids as [string, string, string];
    // Two beads on hooks; the runners only claim (two dispatchers racing could both sling the third).
    for (const id of [a, b]) expect((await gt(town.clone, ['sling', id])).code).toBe(0);

    const one = runner(town.clone, 'runner-one', env);
    const two = runner(town.clone, 'runner-two', env);
    // Both polecats are at work and have pushed a checkpoint.
    await until('both beads worked for two turns', () => (turns.get(a) ?? 0) >= 2 && (turns.get(b) ?? 0) >= 2);
    const callsAtStop = model.calls.length;

    const stop = await gt(town.clone, ['estop']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toMatch(/^emergency stop engaged/);
    const [r1, r2] = await Promise.all([one, two]);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r1.stderr).toContain('emergency stop engaged: runner stopping');
    expect(r2.stderr).toContain('emergency stop engaged: runner stopping');
    // Each stopped at its next checkpoint: at most the turn in flight ran after the stop.
    expect(model.calls.length - callsAtStop).toBeLessThanOrEqual(2);

    const beads = new Map((await allBeads(town.rig)).map((x) => [x.id, x]));
    for (const id of [a, b]) {
      const bead = beads.get(id)!;
      // Released to its own polecat, not paused: claimable again once the stop is released.
      expect(bead.status, id).toBe('hooked');
      expect(bead.paused ?? null, id).toBeNull();
      const pushed = git(town.remote, ['ls-tree', '--name-only', `polecat/${bead.assignee}/${id}`]).split('\n');
      expect(pushed, id).toContain(`${id}-${turns.get(id)}.txt`);
    }
    expect(beads.get(c)!.status).toBe('open');

    // Nothing new is slung or dispatched meanwhile: by hand, or by a runner started now.
    const sling = await gt(town.clone, ['sling', c]);
    expect(sling.code).not.toBe(0);
    expect(sling.stderr).toMatch(/^gt: the emergency stop is engaged \(by tester\)/);
    const late = await gtx(town.clone, ['runner', '--until-idle'], { ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: model.baseURL });
    expect(late.code, late.stderr).toBe(0);
    expect(late.stdout).toContain('no beads to work');
    expect((await allBeads(town.rig)).find((x) => x.id === c)!.status).toBe('open');
    expect((await gt(town.clone, ['estop'])).stdout).toMatch(/^emergency stop already engaged \(by tester/);

    // Released: the runners' beads resume from their pushed commits and the third is slung.
    expect((await gt(town.clone, ['estop', '--release'])).stdout).toBe('emergency stop released: work resumes\n');
    mayFinish = true;
    const after = await gtx(town.clone, ['runner', '--until-idle'], {
      ANTHROPIC_API_KEY: 'sk-ant-test',
      ANTHROPIC_BASE_URL: model.baseURL,
    });
    expect(after.code, after.stderr).toBe(0);
    expect((await allBeads(town.rig)).map((x) => x.status)).toEqual(['closed', 'closed', 'closed']);
    expect(git(town.remote, ['show', `main:${a}-1.txt`])).toBe('1');
    const feed = (await readFeed(town.rig)).map((e) => e.type);
    expect(feed).toContain('estop_engaged');
    expect(feed).toContain('estop_released');
  }, 180_000);
});
