import { afterEach, describe, expect, it } from 'vitest';
import { getBead } from '../../src/rig/beads.js';
import { readFeed } from '../../src/rig/feed.js';
import { estimateCostUsd } from '../../src/model/pricing.js';
import type { CostsReport } from '../../src/rig/costs.js';
import { startAnthropicDouble, type AnthropicDouble, type DoubleUsage } from '../support/anthropic-double.js';
import { gt } from '../cli/run-gt.js';
import { git } from '../helpers/temp-repo.js';
import { gtx } from './run-gt-lazy.js';
import { makeTown, type Town } from './town-fixture.js';

let town: Town | undefined;
let model: AnthropicDouble | undefined;
afterEach(async () => {
  await model?.stop();
  town?.cleanup();
  model = town = undefined;
});

// Every turn the scripted model reports this; 1,000 + 100 + 200 + 50 = 1,350 tokens a turn.
const TURN: DoubleUsage = { input_tokens: 1000, output_tokens: 100, cache_read_input_tokens: 200, cache_creation_input_tokens: 50 };
const TURN_TOKENS = 1350;
const MODEL = 'claude-sonnet-4-6';

describe('convoy budgets, enforced by the runner', () => {
  it('stops a scripted agent past its budget with its work pushed, pauses the bead, resumes when the budget is raised; gt costs sums what the API reported', async () => {
    // The model writes one file per call, and finishes on the 5th call overall: it would
    // need 5 turns, the budget (3,000 tokens) allows 3 (the one that crosses it included).
    let finishAt = 5;
    model = await startAnthropicDouble({
      reply: () => {
        const call = model!.calls.length + 1;
        return call >= finishAt
          ? { content: [{ type: 'tool_use', name: 'finish', input: { summary: `done after call ${call}` } }], usage: TURN }
          : {
              content: [{ type: 'tool_use', name: 'write_file', input: { path: `step-${call}.txt`, content: `call ${call}\n` } }],
              usage: TURN,
            };
      },
    });
    town = await makeTown({ concurrency: 1, agent: { kind: 'builtin', maxTurns: 20, tokenBudget: 1_000_000, timeoutMs: 60_000 } });
    const env = { ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: model.baseURL, GASTOWN_MODEL: MODEL };
    const bead = (await gt(town.clone, ['bead', 'create', 'Write the steps', '--json'])).json<{ id: string }>().id;
    const created = await gt(town.clone, ['convoy', 'create', 'steps', bead, '--budget', '3k', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const convoy = created.json<{ id: string; budget: unknown }>();
    expect(convoy.budget).toEqual({ tokens: 3000 });

    const first = await gtx(town.clone, ['runner', '--until-idle'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`${bead} paused`));

    // Three calls: after the third the budget was spent, and the agent was stopped before a fourth.
    expect(model.calls).toHaveLength(3);
    const paused = await getBead(town.rig, bead);
    expect(paused).toMatchObject({ status: 'hooked', paused: 'budget' });
    const spent = paused.usage!.reduce(
      (n, r) => n + r.usage!.inputTokens + r.usage!.outputTokens + r.usage!.cacheReadTokens + r.usage!.cacheWriteTokens,
      0,
    );
    expect(spent).toBe(3 * TURN_TOKENS);
    // Exceeded by less than one turn.
    expect(spent - 3000).toBeLessThan(TURN_TOKENS);
    // Its work is pushed: the polecat branch on the remote holds the three files.
    const branch = `polecat/${paused.assignee}/${bead}`;
    const files = git(town.remote, ['ls-tree', '--name-only', branch]).split('\n');
    expect(files).toEqual(expect.arrayContaining(['step-1.txt', 'step-2.txt', 'step-3.txt']));
    expect((await readFeed(town.rig)).map((e) => e.type)).toContain('bead_paused');
    const status = await gt(town.clone, ['convoy', 'status', convoy.id]);
    expect(status.stdout).toMatch(/spent: \$[\d.]+ \(4050 of 3000 tokens\); paused for budget: /);
    // A runner started meanwhile leaves the paused bead alone.
    const idle = await gtx(town.clone, ['runner', '--until-idle'], env);
    expect(idle.code, idle.stderr).toBe(0);
    expect(model.calls).toHaveLength(3);

    // A person raises the budget: the bead is unpaused and its polecat resumes from the pushed commits.
    const bad = await gt(town.clone, ['convoy', 'budget', convoy.id, '+lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^gt: not a budget: "\+lots"/);
    const raised = await gt(town.clone, ['convoy', 'budget', convoy.id, '+10k']);
    expect(raised.code, raised.stderr).toBe(0);
    expect(raised.stdout).toContain(`budget 13000 tokens; spent $`);
    expect(raised.stdout).toContain(`resumed ${bead}`);
    finishAt = 5;
    const second = await gtx(town.clone, ['runner', '--until-idle'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(model.calls).toHaveLength(5);
    const done = await getBead(town.rig, bead);
    expect(done.status).toBe('closed');
    expect(done.usage!.map((r) => r.run)).toEqual(['0.1', '0.2']);
    expect(git(town.remote, ['show', 'main:step-4.txt'])).toBe('call 4');
    expect(git(town.remote, ['show', 'main:step-1.txt'])).toBe('call 1');

    // gt costs: the sum of what the stand-in reported, priced by the model's table.
    const reported = model.reported();
    const costs = (await gt(town.clone, ['costs', '--convoy', convoy.id, '--json'])).json<CostsReport>();
    expect(costs.total.usage).toMatchObject({
      inputTokens: reported.input_tokens,
      outputTokens: reported.output_tokens,
      cacheReadTokens: reported.cache_read_input_tokens,
      cacheWriteTokens: reported.cache_creation_input_tokens,
    });
    expect(reported.input_tokens).toBe(5000);
    const perTurn = estimateCostUsd(MODEL, { inputTokens: 1000, outputTokens: 100, cacheReadTokens: 200, cacheWriteTokens: 50 });
    expect(costs.total.usage.costUsd).toBeCloseTo(5 * perTurn, 6);
    expect(costs.total.runs).toBe(2);
    const byPolecat = (await gt(town.clone, ['costs', '--by', 'polecat', '--json'])).json<CostsReport>();
    expect(byPolecat.rows.map((r) => [r.key, r.runs])).toEqual([[paused.assignee, 2]]);
    const text = await gt(town.clone, ['costs', '--convoy', convoy.id]);
    expect(text.stdout).toContain(`${convoy.id}: spent $${(5 * perTurn).toFixed(4)} (6750 of 13000 tokens)`);
    expect((await gt(town.clone, ['costs', '--by', 'week'])).stderr).toMatch(/^gt: --by must be one of/);
  }, 120_000);

  it('lets an agent that finished on the turn that spent the budget go to review; the next bead of the convoy is not started', async () => {
    model = await startAnthropicDouble({
      reply: () => ({
        content: [
          { type: 'tool_use', name: 'write_file', input: { path: 'done.txt', content: 'done\n' } },
          { type: 'tool_use', name: 'finish', input: { summary: 'done' } },
        ],
        usage: TURN,
      }),
    });
    town = await makeTown({ concurrency: 1, agent: { kind: 'builtin', maxTurns: 5, tokenBudget: 1_000_000, timeoutMs: 60_000 } });
    const env = { ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: model.baseURL, GASTOWN_MODEL: MODEL };
    const first = (await gt(town.clone, ['bead', 'create', 'First', '--json'])).json<{ id: string }>().id;
    const second = (await gt(town.clone, ['bead', 'create', 'Second', '--blocked-by', first, '--json'])).json<{ id: string }>().id;
    const convoy = (await gt(town.clone, ['convoy', 'create', 'tight', first, second, '--budget', '1000', '--json'])).json<{ id: string }>()
      .id;

    const r = await gtx(town.clone, ['runner', '--until-idle'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(model.calls).toHaveLength(1);
    expect(await getBead(town.rig, first)).toMatchObject({ status: 'closed' });
    // Its blocker merged, but the budget is spent: the second bead is not slung.
    expect(await getBead(town.rig, second)).toMatchObject({ status: 'open', assignee: null });
    const status = await gt(town.clone, ['convoy', 'status', convoy]);
    expect(status.stdout).toContain('(1350 of 1000 tokens)');
  }, 120_000);
});
