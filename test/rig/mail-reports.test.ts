/**
 * Runners' reports to the mayor go on a chain per polecat (`reports/<polecat>`), not on the
 * mayor's inbox chain that every runner used to append to: two runners on two clones that
 * finish at once then push without either being turned away, and the mayor's inbox still
 * shows both reports (issue 15: most of bench:scale's push retries were that one ref).
 */
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { createBead } from '../../src/rig/beads.js';
import { inbox, readMail, sendMail } from '../../src/rig/mail.js';
import { Rig } from '../../src/rig/rig.js';
import { sling } from '../../src/rig/sling.js';
import { syncRig } from '../../src/rig/sync-rig.js';
import { claimBead, failBead, finishBead } from '../../src/rig/work.js';
import { git, repoWithRemote, tempDir } from '../helpers/temp-repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

async function twoClones() {
  const root = tempDir('mail-reports');
  cleanups.push(root.cleanup);
  const { remote, clone } = repoWithRemote(root.path);
  const second = join(root.path, 'clone-b');
  git(root.path, ['clone', '-q', remote, second]);
  const open = async (dir: string, actor: string) => {
    Rig.init(dir, { remote, retryCap: 0 });
    const rig = await Rig.open({ repoDir: dir, actor });
    cleanups.push(() => rig.close());
    return rig;
  };
  const a = await open(clone, 'runner-a');
  const b = await open(second, 'runner-b');
  return { a, b, remote };
}

test('two runners finishing at once on two clones: no push of either is turned away, and the mayor reads both reports', async () => {
  const { a, b, remote } = await twoClones();
  const one = await createBead(a, { title: 'one' });
  const two = await createBead(a, { title: 'two' });
  await sling(a, one.id, 'nux');
  await sling(a, two.id, 'slit');
  await syncRig(a, remote);
  await syncRig(b, remote);
  const claimA = (await claimBead(a, { runner: 'runner-a', bead: one.id }))!;
  const claimB = (await claimBead(b, { runner: 'runner-b', bead: two.id }))!;
  expect([claimA.polecat, claimB.polecat]).toEqual(['nux', 'slit']);
  await syncRig(a, remote);
  await syncRig(b, remote);
  await syncRig(a, remote);

  // Both finish before either syncs: the refs each finish moves are disjoint, so neither
  // sync's push can be turned away by the other's (before, both appended to mail/mayor).
  const refs = (rig: Rig) =>
    new Map(
      git(rig.repoDir, ['for-each-ref', '--format=%(refname) %(objectname)', 'refs/gastown/'])
        .trim()
        .split('\n')
        .map((l) => l.split(' ') as [string, string]),
    );
  const moved = (before: Map<string, string>, after: Map<string, string>) =>
    [...after].filter(([ref, oid]) => before.get(ref) !== oid).map(([ref]) => ref);
  const [beforeA, beforeB] = [refs(a), refs(b)];
  await finishBead(a, claimA, { branch: claimA.branch, summary: 'one done' });
  await finishBead(b, claimB, { branch: claimB.branch, summary: 'two done' });
  const [movedA, movedB] = [moved(beforeA, refs(a)), moved(beforeB, refs(b))];
  expect(movedA).toContain('refs/gastown/reports/nux');
  expect(movedB).toContain('refs/gastown/reports/slit');
  expect(movedA.filter((r) => movedB.includes(r))).toEqual([]);
  const [syncA, syncB] = await Promise.all([syncRig(a, remote), syncRig(b, remote)]);
  expect([syncA.attempts, syncB.attempts]).toEqual([1, 1]);
  await syncRig(a, remote);
  await syncRig(b, remote);

  for (const rig of [a, b]) {
    const mail = await inbox(rig, 'mayor');
    expect(mail.map((m) => [m.type, m.from, m.bead, m.read])).toEqual([
      ['POLECAT_DONE', 'nux', one.id, false],
      ['POLECAT_DONE', 'slit', two.id, false],
    ]);
  }
  expect(git(a.repoDir, ['for-each-ref', '--format=%(refname)', 'refs/gastown/mail/', 'refs/gastown/reports/']).trim().split('\n')).toEqual(
    ['refs/gastown/reports/nux', 'refs/gastown/reports/slit'],
  );
}, 60_000);

test("the mayor's inbox: its own mail and the reports in creation order; a report read is marked on the mayor's chain", async () => {
  const { a } = await twoClones();
  const bead = await createBead(a, { title: 'fails' });
  await sling(a, bead.id, 'nux');
  await sendMail(a, { from: 'ada', to: 'mayor', subject: 'before' });
  const claim = (await claimBead(a, { runner: 'runner-a', bead: bead.id }))!;
  await failBead(a, claim, 'it broke', { permanent: true });
  await sendMail(a, { from: 'ada', to: 'mayor', subject: 'after' });

  expect(git(a.repoDir, ['for-each-ref', '--format=%(refname)', 'refs/gastown/reports/']).trim()).toBe('refs/gastown/reports/nux');
  const mail = await inbox(a, 'mayor');
  expect(mail.map((m) => m.subject)).toEqual(['before', `BEAD_FAILED ${bead.id}: fails`, 'after']);
  const report = mail[1]!;
  expect(await readMail(a, report.id, 'mayor')).toMatchObject({ id: report.id, body: 'it broke' });
  expect(await readMail(a, report.id)).toMatchObject({ id: report.id });
  expect((await inbox(a, 'mayor')).map((m) => m.read)).toEqual([false, true, false]);
  expect(await inbox(a, 'nux')).toEqual([]);
}, 60_000);
