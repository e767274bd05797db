import { afterEach, describe, expect, it } from 'vitest';
import { deaconPass } from '../../src/rig/deacon-pass.js';
import { getBead } from '../../src/rig/beads.js';
import { readFeed } from '../../src/rig/feed.js';
import { inbox } from '../../src/rig/mail.js';
import { Rig } from '../../src/rig/rig.js';
import { claimBead, dispatchReady, heartbeat, isLeaseLost } from '../../src/rig/work.js';
import type { Hook } from '../../src/town/types.js';
import { BAD_BEADS, writeRawEntity } from '../helpers/corrupt-entity.js';
import { git } from '../helpers/temp-repo.js';
import { makeTown, scriptBead, type Town } from '../runner/town-fixture.js';

let town: Town | undefined;
afterEach(() => town?.cleanup());

/** A rig on the same repository whose clock the test moves. */
async function clocked(t: Town, start = Date.now()): Promise<{ rig: Rig; advance(ms: number): void }> {
  let now = start;
  const rig = await Rig.open({ repoDir: t.clone, actor: 'clocked', now: () => new Date(now) });
  return { rig, advance: (ms) => (now += ms) };
}

describe('the Deacon', () => {
  it("makes a silent polecat's bead claimable again after the lease, and escalates repeat stalls to the mayor", async () => {
    town = await makeTown({ leaseMs: 1_000, retryCap: 2 });
    const t = await clocked(town);
    try {
      const bead = await scriptBead(t.rig, 'slow', ['true']);
      await dispatchReady(t.rig);
      const claim = (await claimBead(t.rig, { runner: 'r1' }))!;
      t.advance(500);
      expect(await deaconPass(t.rig)).toEqual({ stalled: [], escalated: [] });
      await heartbeat(t.rig, claim);
      t.advance(900);
      expect((await deaconPass(t.rig)).stalled).toEqual([]);

      t.advance(200);
      const first = await deaconPass(t.rig);

      expect(first).toEqual({ stalled: [bead.id], escalated: [] });
      expect((await getBead(t.rig, bead.id)).status).toBe('hooked');
      await expect(heartbeat(t.rig, claim)).rejects.toSatisfy(isLeaseLost);
      expect((await t.rig.ledger.get<Hook>('hooks', claim.polecat))!.value.bead).toBe(bead.id);
      const second = (await claimBead(t.rig, { runner: 'r2' }))!;
      expect(second).toMatchObject({ bead: bead.id, polecat: claim.polecat, attempt: 2, takeover: false });
      t.advance(5_000);
      expect(await deaconPass(t.rig)).toEqual({ stalled: [bead.id], escalated: [bead.id] });
      const mail = (await inbox(t.rig, 'mayor')).filter((m) => m.type === 'BEAD_STALLED');
      expect(mail.map((m) => m.bead)).toEqual([bead.id]);
      expect((await readFeed(t.rig)).filter((e) => e.type === 'stalled')).toHaveLength(2);
    } finally {
      t.rig.close();
    }
  });

  it('takes a bead from a runner known to be gone at once, without waiting out the lease', async () => {
    town = await makeTown({ leaseMs: 60_000 });
    const t = await clocked(town);
    try {
      const mine = await scriptBead(t.rig, 'dead run', ['true']);
      const other = await scriptBead(t.rig, 'live run', ['true']);
      await dispatchReady(t.rig);
      const dead = (await claimBead(t.rig, { runner: 'gha-1', bead: mine.id }))!;
      const live = (await claimBead(t.rig, { runner: 'gha-2', bead: other.id }))!;
      await heartbeat(t.rig, dead);
      await heartbeat(t.rig, live);
      const hookBefore = (await t.rig.ledger.get<Hook>('hooks', dead.polecat))!.value.slungAt;
      t.advance(1_000);

      const pass = await deaconPass(t.rig, { deadRunners: ['gha-1'] });

      expect(pass.stalled).toEqual([mine.id]);
      expect((await getBead(t.rig, other.id)).status).toBe('in_progress');
      // Slung anew: a fresh slungAt is what makes the bead due for another workflow run.
      expect((await t.rig.ledger.get<Hook>('hooks', dead.polecat))!.value.slungAt).not.toBe(hookBefore);
    } finally {
      t.rig.close();
    }
  });

  it('skips beads it cannot read or that are wrongly shaped, and still handles the others', async () => {
    town = await makeTown({ leaseMs: 1_000 });
    const t = await clocked(town);
    try {
      const good = await scriptBead(t.rig, 'silent', ['true']);
      await dispatchReady(t.rig);
      await claimBead(t.rig, { runner: 'r1' });
      const shaped = JSON.stringify({ id: 'gt-bad3', status: 'in_progress', assignee: 'ghost', blockedBy: 'x' });
      const bad = {
        'refs/gastown/beads/gt-bad1': writeRawEntity(town.clone, 'refs/gastown/beads/gt-bad1', BAD_BEADS.badJson()),
        'refs/gastown/beads/gt-bad2': writeRawEntity(town.clone, 'refs/gastown/beads/gt-bad2', BAD_BEADS.noFile()),
        'refs/gastown/beads/gt-bad3': writeRawEntity(town.clone, 'refs/gastown/beads/gt-bad3', {
          files: { 'bead.json': shaped },
          message: `x\n\n${shaped}\n`,
        }),
      };
      t.advance(2_000);

      const pass = await deaconPass(t.rig);

      expect(pass.stalled).toEqual([good.id]);
      expect((await getBead(t.rig, good.id)).status).toBe('hooked');
      expect(t.rig.ledger.skipped.map((s) => s.ref).sort()).toEqual(Object.keys(bad));
      for (const [ref, oid] of Object.entries(bad)) expect(git(town.clone, ['rev-parse', ref])).toBe(oid);
    } finally {
      t.rig.close();
    }
  });
});
