/**
 * Issue 14 part 4 on Actions: the convoy-wide budget bound across runners in separate clones
 * of one bare remote (as Actions jobs are), whose views of each other's spending come only
 * from what is pushed. Three runners, three beads of one budgeted convoy, the Messages API
 * double reporting 1,350 tokens a turn against a budget of 1,400, and a sync cadence far
 * longer than the run: the convoy's spend ends at most one turn past its budget.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.js';
import { allBeads } from '../../src/rig/beads.js';
import { Rig } from '../../src/rig/rig.js';
import type { RigSettings } from '../../src/rig/rig-settings.js';
import { syncRig } from '../../src/rig/sync-rig.js';
import { TOWN_KINDS } from '../../src/rig/town-kinds.js';
import type { TurnBook } from '../../src/rig/turn-reservations.js';
import { dispatchReady } from '../../src/rig/work.js';
import type { Bead } from '../../src/town/types.js';
import { startAnthropicDouble, type AnthropicDouble, type DoubleUsage } from '../support/anthropic-double.js';
import { gt } from '../cli/run-gt.js';
import { git } from '../helpers/temp-repo.js';
import { gtx } from './run-gt-lazy.js';
import { makeTown, type Town } from './town-fixture.js';

let town: Town | undefined;
let model: AnthropicDouble | undefined;
const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) r.close();
  await model?.stop();
  town?.cleanup();
  model = town = undefined;
});

const TURN: DoubleUsage = { input_tokens: 1000, output_tokens: 100, cache_read_input_tokens: 200, cache_creation_input_tokens: 50 };
const TURN_TOKENS = 1350;
const BUDGET = 1400;
const MODEL = 'claude-sonnet-4-6';
// A sync cadence far longer than a model call (as on Actions, 30 s): what one clone learns of
// the others' turns in time comes from what they push with their writes. (The cadence still
// lets an idle job see the others' beads end, so `--until-idle` returns.)
const SETTINGS: Partial<RigSettings> = {
  remote: 'origin',
  syncMs: 3_000,
  leaseMs: 120_000,
  concurrency: 1,
  agent: { kind: 'builtin', maxTurns: 20, tokenBudget: 1_000_000, timeoutMs: 60_000 },
};

const tokensOf = (beads: Bead[]) =>
  beads
    .flatMap((b) => b.usage ?? [])
    .reduce((n, r) => n + r.usage!.inputTokens + r.usage!.outputTokens + r.usage!.cacheReadTokens + r.usage!.cacheWriteTokens, 0);

describe('a budget shared by runners in separate clones', () => {
  it('three clones together pass the budget by at most one turn', async () => {
    // Every call is slow enough for the clones' first turns to overlap, writes a file of its own and never finishes the bead.
    let calls = 0;
    model = await startAnthropicDouble({
      reply: async () => {
        const call = ++calls;
        await new Promise((r) => setTimeout(r, 400));
        return {
          content: [{ type: 'tool_use', name: 'write_file', input: { path: `call-${call}.txt`, content: `${call}\n` } }],
          usage: TURN,
        };
      },
    });
    // The town slings all three (one polecat each); every job then works one at a time.
    town = await makeTown({ ...SETTINGS, concurrency: 3 });
    const ids: string[] = [];
    for (const title of ['One', 'Two', 'Three'])
      ids.push((await gt(town.clone, ['bead', 'create', title, '--json'])).json<{ id: string }>().id);
    const created = await gt(town.clone, ['convoy', 'create', 'three', ...ids, '--budget', String(BUDGET), '--json']);
    expect(created.code, created.stderr).toBe(0);
    expect(await dispatchReady(town.rig)).toHaveLength(3);
    await syncRig(town.rig, 'origin');

    const clones: string[] = [];
    for (const name of ['job-1', 'job-2', 'job-3']) {
      const dir = join(town.root, name);
      git(town.root, ['clone', '-q', town.remote, dir]);
      Rig.init(dir, SETTINGS);
      clones.push(dir);
    }
    const env = { ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: model.baseURL, GASTOWN_MODEL: MODEL };
    const runs = await Promise.all(
      clones.map((dir, i) => gtx(dir, ['runner', '--until-idle', '--no-dispatch', '--no-refinery', '--id', `job-${i + 1}`], env)),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);

    // Everything each job wrote, gathered on the remote and read back in the town's clone.
    for (const dir of clones) {
      const rig = await Rig.open({ repoDir: dir, actor: 'tester' });
      rigs.push(rig);
      await syncRig(rig, 'origin');
    }
    await syncRig(town.rig, 'origin');
    const beads = (await allBeads(town.rig)).filter((b) => ids.includes(b.id));
    const spent = tokensOf(beads);
    // Before the turns were published each job's view held only its own bead's spending:
    // every job ran turns until its own bead alone reached the budget.
    expect(spent - BUDGET, `spent ${spent} of ${BUDGET} in ${model.calls.length} calls`).toBeLessThanOrEqual(TURN_TOKENS);
    expect(model.calls).toHaveLength(2);
    expect(beads.filter((b) => b.status === 'in_progress')).toEqual([]);
    expect(beads.filter((b) => b.paused === 'budget').length).toBeGreaterThanOrEqual(1);
    // The remote's book of turns says what the turns cost, with none left in flight.
    const remote = await Ledger.open({ kinds: TOWN_KINDS, repoDir: town.remote });
    try {
      const convoy = created.json<{ id: string }>().id;
      const book = (await remote.get<TurnBook>('meta', `turns.${convoy}`))?.value;
      expect(book?.turns).toEqual([]);
      expect(book?.spent).toMatchObject({ inputTokens: 2000, outputTokens: 200, cacheReadTokens: 400, cacheWriteTokens: 100 });
    } finally {
      remote.close();
    }
  }, 120_000);
});
