import { afterEach, describe, expect, it } from 'vitest';
import { recordMerged } from '../../src/rig/advance.js';
import { getBead } from '../../src/rig/beads.js';
import { recordPlan, type RecordedConvoy } from '../../src/rig/record-plan.js';
import type { ReplanContext, Replanner } from '../../src/rig/replan-convoy.js';
import { sling } from '../../src/rig/sling.js';
import { townService } from '../../src/rig/town-service.js';
import type { Convoy, Plan, PlanBead } from '../../src/town/types.js';
import { makeTown, type Town } from '../runner/town-fixture.js';

let town: Town | undefined;
afterEach(() => town?.cleanup());

const pb = (key: string, title: string, blockedBy: string[] = []): PlanBead => ({
  key,
  title,
  description: `${title}.`,
  acceptance: [],
  files: [],
  blockedBy,
});

async function planned(t: Town, requireApproval = false): Promise<RecordedConvoy> {
  return recordPlan(t.rig, {
    sourceKey: 'github:acme/web#7',
    title: 'Health check',
    source: { kind: 'github', repo: 'acme/web', issue: { number: 7, id: 907, url: 'https://github.com/acme/web/issues/7' } },
    plan: {
      summary: 'three steps',
      beads: [pb('api', 'Add the endpoint'), pb('ui', 'Show it', ['api']), pb('docs', 'Document it', ['ui'])],
    },
    planner: 'checklist',
    usage: null,
    requireApproval,
  });
}

/** A replanner that returns `plan` and remembers what it was shown. */
function scripted(plan: Plan, seen: ReplanContext[] = []): Replanner {
  return async (ctx) => {
    seen.push(ctx);
    return {
      plan,
      planner: 'checklist',
      usage: { inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0.5 },
    };
  };
}

const input = (replanner: Replanner, extra: { key?: string; maxBeads?: number; requireApproval?: boolean } = {}) => ({
  key: extra.key ?? 'comment:1',
  instruction: 'swap the docs for a changelog',
  by: 'ada',
  replanner,
  maxBeads: extra.maxBeads ?? 10,
  requireApproval: extra.requireApproval ?? false,
});

describe('replan (rig/replan-convoy.ts through TownService)', () => {
  it('changes only beads that have not started: edits, cancels, adds, with edges and the dependents index', async () => {
    town = await makeTown();
    await planned(town);
    const before = (await townService(town.rig).convoyFor('github:acme/web#7'))!;
    const [api, ui, docs] = before.beads;
    await sling(town.rig, api!.id);
    const seen: ReplanContext[] = [];
    const revised: Plan = {
      summary: 'revised',
      beads: [
        pb('api', 'Add the endpoint, renamed by the model'),
        pb('ui', 'Show it on the dashboard', ['api']),
        pb('log', 'Write the changelog', ['ui']),
      ],
    };

    const out = await townService(town.rig).replan(before.convoy.id, input(scripted(revised, seen)));

    expect(seen[0]!.beads.map((b) => [b.key, b.started])).toEqual([
      ['api', true],
      ['ui', false],
      ['docs', false],
    ]);
    expect(out.status).toBe('replanned');
    expect(out.fixed.map((b) => b.id)).toEqual([api!.id]);
    expect(out.changed.map((b) => [b.id, b.title])).toEqual([[ui!.id, 'Show it on the dashboard']]);
    expect(out.cancelled.map((b) => b.id)).toEqual([docs!.id]);
    expect(out.added).toHaveLength(1);
    const log = out.added[0]!;
    expect(log).toMatchObject({ title: 'Write the changelog', key: 'log', blockedBy: [ui!.id], convoy: before.convoy.id, status: 'open' });

    const ledger = townService(town.rig);
    expect(await ledger.bead(api!.id)).toMatchObject({ title: 'Add the endpoint', status: 'hooked' });
    expect(await ledger.bead(docs!.id)).toMatchObject({ status: 'closed', closeReason: 'cancelled: re-planned' });
    expect(await ledger.bead(ui!.id)).toMatchObject({ title: 'Show it on the dashboard', dependents: [log.id] });
    const convoy = (await ledger.convoy(before.convoy.id))!.convoy;
    expect(convoy).toMatchObject({
      beads: [api!.id, ui!.id, log.id],
      cancelled: [docs!.id],
      replans: ['comment:1'],
      status: 'active',
      usage: { costUsd: 0.5 },
    });
  });

  it('a redelivered key changes nothing and does not ask the planner again', async () => {
    town = await makeTown();
    const { convoy } = await planned(town);
    const seen: ReplanContext[] = [];
    const plan: Plan = { summary: 's', beads: [pb('api', 'Add the endpoint'), pb('ui', 'Show it', ['api'])] };
    const first = await townService(town.rig).replan(convoy.id, input(scripted(plan, seen)));
    const second = await townService(town.rig).replan(convoy.id, input(scripted(plan, seen)));
    expect(first.status).toBe('replanned');
    expect(second.status).toBe('already');
    expect(seen).toHaveLength(1);
    expect((await townService(town.rig).convoy(convoy.id))!.convoy.beads).toHaveLength(2);
    // The redelivery reports what the first delivery did, so a surface that crashed between
    // the ledger and the forge can finish mirroring it.
    const ids = (o: typeof first) => ({
      added: o.added.map((b) => b.id),
      changed: o.changed.map((b) => b.id),
      cancelled: o.cancelled.map((b) => b.id),
    });
    expect(first.added.length + first.changed.length + first.cancelled.length).toBeGreaterThan(0);
    expect(ids(second)).toEqual(ids(first));
  });

  it('refuses an invalid revision or one past the bead cap, and the ledger is as it was', async () => {
    town = await makeTown();
    const { convoy, beads } = await planned(town);
    const bad: Plan = { summary: 's', beads: [pb('api', 'A'), pb('ui', 'B', ['nope'])] };
    await expect(townService(town.rig).replan(convoy.id, input(scripted(bad)))).rejects.toMatchObject({ code: 'gastown_plan_invalid' });
    const many: Plan = { summary: 's', beads: ['a', 'b', 'c', 'd'].map((k) => pb(k, k)) };
    await expect(townService(town.rig).replan(convoy.id, input(scripted(many), { maxBeads: 3 }))).rejects.toMatchObject({
      code: 'gastown_plan_invalid',
    });
    const after = (await townService(town.rig).convoy(convoy.id))!;
    expect(after.convoy.beads).toEqual(beads.map((b) => b.id));
    expect(after.convoy.replans).toBeUndefined();
    expect(after.beads.map((b) => b.status)).toEqual(['open', 'open', 'open']);
  });

  it('a repository that asks for approval waits for one again before new work runs', async () => {
    town = await makeTown();
    const { convoy } = await planned(town);
    const plan: Plan = { summary: 's', beads: [pb('api', 'Add the endpoint'), pb('ui', 'Show it', ['api']), pb('more', 'More')] };
    const out = await townService(town.rig).replan(convoy.id, input(scripted(plan), { requireApproval: true }));
    expect(out.convoy).toMatchObject({ status: 'awaiting_approval', approved: false });
    expect(await townService(town.rig).dispatchReady('ada')).toEqual([]);
  });

  it('a bead slung while the planner thought is kept as it is', async () => {
    town = await makeTown();
    const { convoy, beads } = await planned(town);
    const t = town;
    const racing: Replanner = async () => {
      await sling(t.rig, beads[0]!.id);
      return { plan: { summary: 's', beads: [pb('ui', 'Show it')] }, planner: 'checklist', usage: null };
    };
    const out = await townService(town.rig).replan(convoy.id, input(racing));
    expect(out.cancelled.map((b) => b.id)).toEqual([beads[2]!.id]);
    expect((await getBead(town.rig, beads[0]!.id)).status).toBe('hooked');
    expect(out.convoy.beads).toEqual([beads[0]!.id, beads[1]!.id]);
  });

  it('a landed convoy is not re-planned; cancelling all that is left lands it', async () => {
    town = await makeTown();
    const { convoy, beads } = await planned(town);
    await sling(town.rig, beads[0]!.id);
    await recordMerged(town.rig, beads[0]!.id, { url: null });
    const out = await townService(town.rig).replan(convoy.id, input(scripted({ summary: 's', beads: [pb('api', 'Add the endpoint')] })));
    expect(out.cancelled).toHaveLength(2);
    expect(out.convoy.status).toBe('landed');
    const again = await townService(town.rig).replan(
      convoy.id,
      input(scripted({ summary: 's', beads: [pb('x', 'X')] }), { key: 'comment:2' }),
    );
    expect(again.status).toBe('refused');
    expect(again.reason).toMatch(/landed/);
    expect(((await town.rig.ledger.get<Convoy>('convoys', convoy.id))!.value.replans ?? []).length).toBe(1);
  });
});
