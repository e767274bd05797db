import { afterEach, describe, expect, test } from 'vitest';
import { recordPlan, type RecordPlanInput } from '../../src/rig/record-plan.js';
import { Rig } from '../../src/rig/rig.js';
import type { Budget, Convoy } from '../../src/town/types.js';
import { gt } from '../cli/run-gt.js';
import { repoWithRemote, tempDir } from '../helpers/temp-repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function input(sourceKey: string, budget?: Budget): RecordPlanInput {
  return {
    sourceKey,
    title: 'Health check',
    source: { kind: 'local', goal: 'Health check', requestedBy: 'ada' },
    plan: {
      summary: 'one step',
      beads: [{ key: 'api', title: 'Add the endpoint', description: 'GET /health', acceptance: [], files: [], blockedBy: [] }],
      ...(budget ? { budget } : {}),
    },
    planner: 'model',
    usage: null,
    requireApproval: false,
  };
}

async function rigWith(settings: { budget: string; maxConvoyBudget: string }) {
  const root = tempDir('plan-budget');
  cleanups.push(root.cleanup);
  const { remote, clone } = repoWithRemote(root.path);
  Rig.init(clone, { remote, ...settings });
  const rig = await Rig.open({ repoDir: clone, actor: 'ada' });
  cleanups.push(() => rig.close());
  return { rig, clone };
}

describe("budgets from the Mayor's plan within the repository's maximum", () => {
  test("the rig's settings: a plan within the maximum keeps its budget, one above it is clamped and says so, one without takes the default", async () => {
    const { rig } = await rigWith({ budget: '$2', maxConvoyBudget: '$5, 300k' });

    const within = await recordPlan(rig, input('local:a', { usd: 3 }));
    expect(within.convoy.budget).toEqual({ usd: 3, tokens: 300_000 });
    expect(within.convoy.budgetNote).toBeUndefined();

    const greedy = await recordPlan(rig, input('local:b', { usd: 40 }));
    expect(greedy.convoy.budget).toEqual({ usd: 5, tokens: 300_000 });
    expect(greedy.convoy.budgetNote).toBe('the plan asked for $40.00; the repository allows at most $5.00 and 300000 tokens');
    // What was recorded, not only what was returned.
    expect((await rig.ledger.get<Convoy>('convoys', greedy.convoy.id))?.value.budget).toEqual({ usd: 5, tokens: 300_000 });

    expect((await recordPlan(rig, input('local:c'))).convoy.budget).toEqual({ usd: 2, tokens: 300_000 });
  });

  test("a caller's configuration (GitHub's .github/gastown.yml) wins over the rig's settings; null means none", async () => {
    const { rig } = await rigWith({ budget: '$2', maxConvoyBudget: '$5' });
    const gh = await recordPlan(rig, { ...input('github:a/b#1', { usd: 40 }), budget: null, maxBudget: { usd: 10 } });
    expect(gh.convoy.budget).toEqual({ usd: 10 });
    expect(gh.convoy.budgetNote).toMatch(/allows at most \$10\.00/);
    const none = await recordPlan(rig, { ...input('github:a/b#2'), budget: null, maxBudget: null });
    expect(none.convoy.budget ?? null).toBeNull();
  });

  test('gt init --budget / --max-convoy-budget set them; gt sling shows the budget a checklist plan got; a bad amount is one line', async () => {
    const root = tempDir('plan-budget-cli');
    cleanups.push(root.cleanup);
    const { clone } = repoWithRemote(root.path);
    const init = await gt(clone, ['init', '--budget', '50k', '--max-convoy-budget', '$1']);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain('convoy budgets: 50k unless the plan names one, at most $1');
    const slung = await gt(clone, ['sling', '--checklist', 'Write the docs']);
    expect(slung.code, slung.stderr).toBe(0);
    expect(slung.stdout).toContain('budget: $1.00 and 50000 tokens');
    const convoys = (await gt(clone, ['convoy', 'list', '--json'])).json<{ convoy: Convoy }[]>();
    expect(convoys[0]!.convoy.budget).toEqual({ usd: 1, tokens: 50_000 });

    const bad = await gt(clone, ['init', '--max-convoy-budget', '+$5']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toBe('gt: --max-convoy-budget takes an amount, not an increase (got +$5)\n');
  });
});
