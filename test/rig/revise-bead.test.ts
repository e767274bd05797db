import { afterEach, describe, expect, it } from 'vitest';
import { createBead, getBead } from '../../src/rig/beads.js';
import { inbox } from '../../src/rig/mail.js';
import { approveReview, requestRevision, resumePendingRevisions } from '../../src/rig/revise-bead.js';
import { allBeads } from '../../src/rig/beads.js';
import { claimBead, dispatchReady, finishBead } from '../../src/rig/work.js';
import { sling } from '../../src/rig/sling.js';
import { makeTown, type Town } from '../runner/town-fixture.js';

let town: Town | undefined;
afterEach(() => town?.cleanup());

/** A bead slung, claimed and finished by `polecat` (no real work: the ledger side only). */
async function finished(t: Town, title: string, polecat?: string) {
  const bead = await createBead(t.rig, { title });
  await sling(t.rig, bead.id, polecat);
  const claim = (await claimBead(t.rig, { runner: 'r1', bead: bead.id }))!;
  await finishBead(t.rig, claim, { branch: claim.branch });
  return { bead: await getBead(t.rig, bead.id), claim };
}

describe('requestRevision (the shared revision rule)', () => {
  it('sends a bead in review back to its polecat once per key, with mail, and counts the round', async () => {
    town = await makeTown({ maxRevisions: 2 });
    const { bead, claim } = await finished(town, 'Write it');

    const first = await requestRevision(town.rig, bead.id, { by: 'ada', kind: 'review', text: 'Shorter, please.', key: 'review:1' });
    const again = await requestRevision(town.rig, bead.id, { by: 'ada', kind: 'review', text: 'Shorter, please.', key: 'review:1' });

    expect(first).toMatchObject({ action: 'revise', polecat: claim.polecat, round: 1, pending: false });
    expect(again.action).toBe('duplicate');
    expect(await getBead(town.rig, bead.id)).toMatchObject({
      status: 'hooked',
      assignee: claim.polecat,
      revisions: 1,
      attempts: 0,
      approvedBy: null,
    });
    const mail = (await inbox(town.rig, claim.polecat)).filter((m) => m.type === 'REVISION_REQUESTED');
    expect(mail.map((m) => m.body)).toEqual([`review feedback on ${claim.branch}:\n\nShorter, please.`]);
  });

  it('queues a request that arrives while the polecat works; its round starts when the polecat finishes', async () => {
    town = await makeTown();
    const { bead } = await finished(town, 'Write it');
    await requestRevision(town.rig, bead.id, { by: 'ada', kind: 'review', text: 'One.' });
    const claim = (await claimBead(town.rig, { runner: 'r1', bead: bead.id }))!;
    const answered = (await inbox(town.rig, claim.polecat)).map((m) => m.id);

    const queued = await requestRevision(town.rig, bead.id, { by: 'bob', kind: 'review', text: 'Two.' });
    const after = await finishBead(town.rig, claim, { branch: claim.branch, answered });

    expect(queued.action).toBe('queue');
    expect(after).toMatchObject({ status: 'hooked', assignee: claim.polecat, revisions: 2 });
  });

  it('a polecat busy with other work gets the bead back once it is free', async () => {
    town = await makeTown();
    const { bead, claim } = await finished(town, 'First');
    const other = await createBead(town.rig, { title: 'Second' });
    await sling(town.rig, other.id, claim.polecat);

    const out = await requestRevision(town.rig, bead.id, { by: 'ada', kind: 'review', text: 'Fix it.' });
    expect(out).toMatchObject({ action: 'revise', pending: true });
    expect((await getBead(town.rig, bead.id)).status).toBe('in_review');
    expect(await resumePendingRevisions(town.rig, await allBeads(town.rig))).toEqual([]);

    const second = (await claimBead(town.rig, { runner: 'r1', bead: other.id }))!;
    await finishBead(town.rig, second, { branch: second.branch });
    await dispatchReady(town.rig);
    expect(await getBead(town.rig, bead.id)).toMatchObject({ status: 'hooked', assignee: claim.polecat, revisionPending: false });
  });

  it('a gate or CI failure counts against the cap; a conflict does not; approval is idempotent and cleared by a new round', async () => {
    town = await makeTown({ maxRevisions: 1 });
    const { bead } = await finished(town, 'Write it');
    expect((await approveReview(town.rig, bead.id, 'ada')).approvedBy).toBe('ada');
    expect((await approveReview(town.rig, bead.id, 'bob')).approvedBy).toBe('ada');

    const conflict = await requestRevision(town.rig, bead.id, { by: 'refinery', kind: 'conflict', text: 'CONFLICT in a.txt' });
    expect(conflict).toMatchObject({ action: 'revise', round: 0 });
    expect((await getBead(town.rig, bead.id)).approvedBy).toBeNull();
    const claim = (await claimBead(town.rig, { runner: 'r1', bead: bead.id }))!;
    await finishBead(town.rig, claim, { branch: claim.branch, answered: (await inbox(town.rig, claim.polecat)).map((m) => m.id) });
    expect((await requestRevision(town.rig, bead.id, { by: 'ci', kind: 'ci', text: 'test failed' })).action).toBe('revise');
    const again = (await claimBead(town.rig, { runner: 'r1', bead: bead.id }))!;
    await finishBead(town.rig, again, { branch: again.branch, answered: (await inbox(town.rig, again.polecat)).map((m) => m.id) });

    const over = await requestRevision(town.rig, bead.id, { by: 'refinery', kind: 'gate', text: 'gate failed' });

    expect(over).toMatchObject({ action: 'needs_human', rounds: 1, owner: 'mayor' });
    expect((await getBead(town.rig, bead.id)).labels).toContain('gastown:needs-human');
  });
});
