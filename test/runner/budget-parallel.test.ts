/**
 * The convoy-wide budget bound with parallel polecats: three runners working three beads of
 * one budgeted convoy against the Messages API double, whose calls are slow enough to overlap.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Bead } from '../../src/town/types.js';
import { startAnthropicDouble, type AnthropicDouble, type DoubleUsage } from '../support/anthropic-double.js';
import { gt } from '../cli/run-gt.js';
import { gtx } from './run-gt-lazy.js';
import { makeTown, type Town } from './town-fixture.js';

let town: Town | undefined;
let model: AnthropicDouble | undefined;
afterEach(async () => {
  await model?.stop();
  town?.cleanup();
  model = town = undefined;
});

const TURN: DoubleUsage = { input_tokens: 1000, output_tokens: 100, cache_read_input_tokens: 200, cache_creation_input_tokens: 50 };
const TURN_TOKENS = 1350;
const MODEL = 'claude-sonnet-4-6';

/** A model whose every call takes `ms`, writes one file, and finishes a conversation at its `finishAt`-th call; counts calls at once. */
async function slowModel(ms: number, finishAt: number) {
  const seen = { now: 0, most: 0, calls: 0 };
  const double = await startAnthropicDouble({
    reply: async (turn) => {
      seen.most = Math.max(seen.most, ++seen.now);
      // A file of its own per call, so the beads' branches never conflict in the Refinery.
      const call = ++seen.calls;
      await new Promise((r) => setTimeout(r, ms));
      seen.now--;
      return turn + 1 >= finishAt
        ? { content: [{ type: 'tool_use', name: 'finish', input: { summary: 'done' } }], usage: TURN }
        : { content: [{ type: 'tool_use', name: 'write_file', input: { path: `call-${call}.txt`, content: `${call}\n` } }], usage: TURN };
    },
  });
  return { double, seen };
}

async function convoyOfThree(budget: string) {
  town = await makeTown({ concurrency: 1, agent: { kind: 'builtin', maxTurns: 20, tokenBudget: 1_000_000, timeoutMs: 60_000 } });
  const ids: string[] = [];
  for (const title of ['One', 'Two', 'Three'])
    ids.push((await gt(town.clone, ['bead', 'create', title, '--json'])).json<{ id: string }>().id);
  const created = await gt(town.clone, ['convoy', 'create', 'three', ...ids, '--budget', budget, '--json']);
  expect(created.code, created.stderr).toBe(0);
  return ids;
}

const spentOn = (beads: Bead[]) =>
  beads
    .flatMap((b) => b.usage ?? [])
    .reduce((n, r) => n + r.usage!.inputTokens + r.usage!.outputTokens + r.usage!.cacheReadTokens + r.usage!.cacheWriteTokens, 0);

describe('a budget shared by parallel polecats', () => {
  it('three runners together pass the budget by at most one turn, not one turn each', async () => {
    const { double, seen } = await slowModel(400, 100);
    model = double;
    const ids = await convoyOfThree('1400');
    const env = { ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: model.baseURL, GASTOWN_MODEL: MODEL };

    const runs = await Promise.all(['r1', 'r2', 'r3'].map((id) => gtx(town!.clone, ['runner', '--until-idle', '--id', id], env)));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);

    const beads = (await gt(town!.clone, ['bead', 'list', '--json'])).json<Bead[]>().filter((b) => ids.includes(b.id));
    const spent = spentOn(beads);
    // Without the shared book each polecat's first call starts below the budget: 3 turns, 4,050 tokens.
    expect(spent - 1400).toBeLessThanOrEqual(TURN_TOKENS);
    expect(model.calls).toHaveLength(2);
    expect(seen.most).toBe(1);
    // Every bead that was started is paused for the budget; none is left running.
    expect(beads.filter((b) => b.status === 'in_progress')).toEqual([]);
    expect(beads.filter((b) => b.paused === 'budget').length).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('far from the budget the polecats still call the model at the same time', async () => {
    const { double, seen } = await slowModel(1_000, 3);
    model = double;
    const ids = await convoyOfThree('1m');
    const env = { ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: model.baseURL, GASTOWN_MODEL: MODEL };

    // Three runners at once; no Refinery, so the finished beads wait in review (merging is not what is measured).
    const runs = await Promise.all(
      ['r1', 'r2', 'r3'].map((id) => gtx(town!.clone, ['runner', '--until-idle', '--no-refinery', '--id', id], env)),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);

    const beads = (await gt(town!.clone, ['bead', 'list', '--json'])).json<Bead[]>().filter((b) => ids.includes(b.id));
    expect(beads.map((b) => b.status)).toEqual(['in_review', 'in_review', 'in_review']);
    expect(model.calls).toHaveLength(9);
    expect(seen.most).toBeGreaterThanOrEqual(2);
  }, 120_000);
});
