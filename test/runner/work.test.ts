import { afterEach, describe, expect, it } from 'vitest';
import { getBead } from '../../src/rig/beads.js';
import { stopConvoy } from '../../src/rig/convoy-control.js';
import { getConvoy } from '../../src/rig/convoys.js';
import { readFeed } from '../../src/rig/feed.js';
import { inbox } from '../../src/rig/mail.js';
import { approveConvoy, recordPlan } from '../../src/rig/record-plan.js';
import { Rig } from '../../src/rig/rig.js';
import { claimBead, dispatchReady, failBead, finishBead, heartbeat, isLeaseLost, releaseBead } from '../../src/rig/work.js';
import type { Heartbeat, Hook } from '../../src/town/types.js';
import { makeTown, scriptBead, type Town } from './town-fixture.js';

let town: Town | undefined;
afterEach(() => town?.cleanup());

describe('dispatch and claim', () => {
  it('slings ready beads up to the cap, skipping blocked ones and convoys that are not approved', async () => {
    town = await makeTown({ concurrency: 2 });
    const { rig } = town;
    const a = await scriptBead(rig, 'a', ['true']);
    const b = await scriptBead(rig, 'b', ['true']);
    const c = await scriptBead(rig, 'c', ['true']);
    await scriptBead(rig, 'blocked', ['true'], { blockedBy: [a.id] });
    const plan = {
      summary: 'p',
      beads: [{ key: 'k', title: 'planned', description: '```sh\ntrue\n```', acceptance: [], files: [], blockedBy: [] }],
    };
    const waiting = await recordPlan(rig, {
      sourceKey: 'local:test',
      title: 'needs approval',
      source: { kind: 'local' },
      plan,
      planner: 'checklist',
      usage: null,
      requireApproval: true,
    });

    const first = await dispatchReady(rig);

    expect(first.map((s) => s.bead.id)).toEqual([a.id, b.id]);
    expect(new Set(first.map((s) => s.polecat)).size).toBe(2);
    expect(await dispatchReady(rig)).toEqual([]);
    const more = await dispatchReady(rig, { cap: 10 });
    expect(more.map((s) => s.bead.id)).toEqual([c.id]);
    await approveConvoy(rig, waiting.convoy.id, 'boss');
    expect((await dispatchReady(rig, { cap: 10 })).map((s) => s.bead.id)).toEqual([waiting.beads[0]!.id]);
  });

  it('lets exactly one of two racing runners (separate ledger processes) claim a bead', async () => {
    town = await makeTown();
    const bead = await scriptBead(town.rig, 'contested', ['true']);
    await dispatchReady(town.rig);
    const other = await Rig.open({ repoDir: town.clone, actor: 'other' });
    try {
      const claims = await Promise.all([
        claimBead(town.rig, { runner: 'r1' }),
        claimBead(other, { runner: 'r2' }),
        claimBead(town.rig, { runner: 'r3' }),
      ]);

      const won = claims.filter((c) => c !== null);
      expect(won).toHaveLength(1);
      expect(won[0]!.bead).toBe(bead.id);
      expect((await getBead(town.rig, bead.id)).attempts).toBe(1);
      expect((await town.rig.ledger.get<Heartbeat>('heartbeats', won[0]!.polecat))!.value.runner).toBe(won[0]!.runner);
      expect(await claimBead(other, { runner: 'r4' })).toBeNull();
    } finally {
      other.close();
    }
  });

  it('heartbeat, finish and release check the lease; finish frees the hook and mails the mayor', async () => {
    town = await makeTown();
    const { rig } = town;
    const bead = await scriptBead(rig, 'work', ['true']);
    await dispatchReady(rig);
    const claim = (await claimBead(rig, { runner: 'r1' }))!;
    await heartbeat(rig, claim);
    const impostor = { ...claim, runner: 'r2' };
    await expect(heartbeat(rig, impostor)).rejects.toSatisfy(isLeaseLost);

    const released = await releaseBead(rig, claim);
    expect(released!.status).toBe('hooked');
    await expect(heartbeat(rig, claim)).rejects.toSatisfy(isLeaseLost);
    const again = (await claimBead(rig, { runner: 'r2' }))!;
    expect(again.attempt).toBe(2);
    const done = await finishBead(rig, again, { branch: again.branch });

    expect(done.status).toBe('in_review');
    expect(done.branch).toBe(`polecat/${again.polecat}/${bead.id}`);
    expect((await rig.ledger.get<Hook>('hooks', again.polecat))!.value.bead).toBeNull();
    expect(await rig.ledger.get('heartbeats', again.polecat)).toBeNull();
    expect((await inbox(rig, 'mayor')).map((m) => m.type)).toEqual(['POLECAT_DONE']);
    expect((await readFeed(rig)).map((e) => e.type)).toContain('bead_started');
  });

  it('fails a bead for good only after the retry cap, telling the mayor', async () => {
    town = await makeTown({ retryCap: 1 });
    const { rig } = town;
    const bead = await scriptBead(rig, 'flaky', ['false']);
    await dispatchReady(rig);

    const first = await failBead(rig, (await claimBead(rig, { runner: 'r' }))!, 'step 1 exited with 1');
    const second = await failBead(rig, (await claimBead(rig, { runner: 'r' }))!, 'step 1 exited with 1');

    expect(first.status).toBe('hooked');
    expect(second.status).toBe('failed');
    expect((await inbox(rig, 'mayor')).filter((m) => m.type === 'BEAD_FAILED').map((m) => m.bead)).toEqual([bead.id]);
    expect(await claimBead(rig, { runner: 'r' })).toBeNull();
  });

  it('stopping a convoy unslings its beads in flight; the runner holding one loses its lease', async () => {
    town = await makeTown();
    const { rig } = town;
    const plan = {
      summary: 'p',
      beads: ['x', 'y', 'z'].map((k) => ({ key: k, title: k, description: '```sh\ntrue\n```', acceptance: [], files: [], blockedBy: [] })),
    };
    const { convoy } = await recordPlan(rig, {
      sourceKey: 'local:stop',
      title: 'to stop',
      source: { kind: 'local' },
      plan,
      planner: 'checklist',
      usage: null,
      requireApproval: false,
    });
    await dispatchReady(rig, { cap: 2 });
    const claim = (await claimBead(rig, { runner: 'r1' }))!;

    const r = await stopConvoy(rig, convoy.id);

    expect(r.unslung).toHaveLength(2);
    expect((await getConvoy(rig, convoy.id)).status).toBe('stopped');
    await expect(heartbeat(rig, claim)).rejects.toSatisfy(isLeaseLost);
    expect(await dispatchReady(rig, { cap: 5 })).toEqual([]);
    expect((await readFeed(rig)).map((e) => e.type)).toContain('convoy_stopped');
  });
});
