import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createScriptAgent } from '../../src/polecat/agents/script-agent.js';
import { runRunner } from '../../src/polecat/runner/run-runner.js';
import { refineryPass } from '../../src/refinery/refinery-pass.js';
import { getBead } from '../../src/rig/beads.js';
import { readFeed } from '../../src/rig/feed.js';
import { inbox } from '../../src/rig/mail.js';
import { claimBead, dispatchReady, finishBead } from '../../src/rig/work.js';
import { BAD_BEADS, writeRawEntity } from '../helpers/corrupt-entity.js';
import { git } from '../helpers/temp-repo.js';
import { makeTown, remoteLog, scriptBead, type Town } from '../runner/town-fixture.js';

let town: Town | undefined;
afterEach(() => town?.cleanup());

const SEED = ['-c', 'user.name=Other', '-c', 'user.email=other@test.local'];

/** Pushes a commit to the remote's main from a second clone (someone else's change). */
function pushToMain(t: Town, file: string, text: string): void {
  const other = join(t.root, 'other');
  git(t.root, ['clone', '-q', t.remote, other]);
  writeFileSync(join(other, file), text);
  git(other, ['add', '-A']);
  git(other, [...SEED, 'commit', '-q', '-m', `other: ${file}`]);
  git(other, ['push', '-q', 'origin', 'main']);
}

/** A polecat branch with `text` in `file`, pushed by hand, and the bead taken to in_review for it. */
async function queueBranch(t: Town, beadId: string, file: string, text: string): Promise<void> {
  await dispatchReady(t.rig, { only: beadId });
  const claim = (await claimBead(t.rig, { runner: 'r1', bead: beadId }))!;
  git(t.clone, ['fetch', '-q', 'origin']);
  git(t.clone, ['checkout', '-q', '-B', claim.branch, 'origin/main']);
  writeFileSync(join(t.clone, file), text);
  git(t.clone, ['add', '-A']);
  git(t.clone, [...SEED, 'commit', '-q', '-m', `${beadId}: ${file}`]);
  git(t.clone, ['push', '-q', '-f', 'origin', `HEAD:refs/heads/${claim.branch}`]);
  git(t.clone, ['checkout', '-q', 'main']);
  await finishBead(t.rig, claim, { branch: claim.branch });
}

describe('the Refinery', () => {
  it('sends a conflicting branch back to its polecat with mail, then fails it after the retry cap', async () => {
    town = await makeTown({ retryCap: 1 }, { 'shared.txt': 'base\n' });
    const bead = await scriptBead(town.rig, 'Change shared', ['echo polecat > shared.txt']);
    await queueBranch(town, bead.id, 'shared.txt', 'polecat\n');
    pushToMain(town, 'shared.txt', 'someone else\n');
    const mainBefore = git(town.remote, ['rev-parse', 'main']);

    const first = await refineryPass(town.rig, { env: process.env });

    expect(first.sentBack).toEqual([bead.id]);
    const back = await getBead(town.rig, bead.id);
    expect(back.status).toBe('hooked');
    const polecat = back.assignee!;
    const mail = (await inbox(town.rig, polecat)).filter((m) => m.type === 'MERGE_FAILED');
    expect(mail).toHaveLength(1);
    expect(mail[0]!.body).toMatch(/CONFLICT/);
    expect(git(town.remote, ['rev-parse', 'main'])).toBe(mainBefore);

    // The polecat tries again (attempt 2 > retryCap 1): the second conflict fails the bead.
    const again = (await claimBead(town.rig, { runner: 'r1', bead: bead.id }))!;
    expect(again.attempt).toBe(2);
    await finishBead(town.rig, again, { branch: again.branch });
    const second = await refineryPass(town.rig, { env: process.env });

    expect(second.failed).toEqual([bead.id]);
    expect((await getBead(town.rig, bead.id)).status).toBe('failed');
    const mayor = (await inbox(town.rig, 'mayor')).filter((m) => m.type === 'MERGE_FAILED');
    expect(mayor).toHaveLength(1);
    const feed = (await readFeed(town.rig)).map((e) => e.type);
    expect(feed.filter((t) => t === 'merge_failed')).toHaveLength(2);
    expect(feed).toContain('bead_failed');
    expect(git(town.remote, ['rev-parse', 'main'])).toBe(mainBefore);
    // The refinery worktree was left clean (no rebase in progress) for the next bead.
    expect(git(join(town.rig.gitDir, 'gastown', 'refinery'), ['status', '--porcelain'])).toBe('');
  });

  it('rebases a branch made on an older main and merges it when there is no conflict', async () => {
    town = await makeTown();
    const bead = await scriptBead(town.rig, 'Add feature', ['echo f > feature.txt']);
    await queueBranch(town, bead.id, 'feature.txt', 'f\n');
    pushToMain(town, 'unrelated.txt', 'u\n');

    const pass = await refineryPass(town.rig, { env: process.env });

    expect(pass.merged).toEqual([bead.id]);
    expect(remoteLog(town.remote).slice(0, 3)).toEqual([`${bead.id}: feature.txt`, 'other: unrelated.txt', 'seed']);
    // The polecat's authorship survives the rebase; the Refinery is only the committer.
    expect(git(town.remote, ['log', '-1', '--format=%an|%cn', 'main'])).toBe('Test Author|Gas Town Refinery');
    expect((await getBead(town.rig, bead.id)).status).toBe('closed');
  });

  it('refuses a branch whose gate fails, keeps main, and caps the output it reports; a gate failure is a revision round under maxRevisions', async () => {
    const gate =
      'i=0; while [ $i -lt 3000 ]; do echo "noise line $i"; i=$((i+1)); done; if [ -f bad.txt ]; then echo "BAD FILE FOUND"; exit 3; fi';
    town = await makeTown({ retryCap: 0, maxRevisions: 1, gate });
    const bead = await scriptBead(town.rig, 'Add a bad file', ['echo oops > bad.txt']);
    const mainBefore = git(town.remote, ['rev-parse', 'main']);

    const summary = await runRunner({ rig: town.rig, agentFactory: () => createScriptAgent(), untilIdle: true, pollMs: 50 });

    // Round 1 went back to the same polecat with the gate's output; the second failure is past the cap.
    expect(summary.sentBack).toEqual([bead.id]);
    expect(summary.outcomes.map((o) => o.outcome)).toEqual(['in_review', 'in_review']);
    const after = await getBead(town.rig, bead.id);
    expect(after).toMatchObject({ status: 'in_review', revisions: 1 });
    expect(after.labels).toContain('gastown:needs-human');
    expect(git(town.remote, ['rev-parse', 'main'])).toBe(mainBefore);
    const told = (await inbox(town.rig, after.assignee!)).filter((m) => m.type === 'REVISION_REQUESTED');
    expect(told).toHaveLength(1);
    expect(told[0]!.body).toMatch(/BAD FILE FOUND/);
    const mail = (await inbox(town.rig, 'mayor')).find((m) => m.type === 'NEEDS_HUMAN')!;
    expect(mail.body).toMatch(/the gate failed/);
    expect(mail.body).toMatch(/exited with 3/);
    expect(mail.body).toMatch(/BAD FILE FOUND/);
    expect(mail.body.length).toBeLessThan(6000);
    // Left out of the queue until a person approves it: the next pass does nothing.
    expect((await refineryPass(town.rig, { env: process.env })).merged).toEqual([]);
  });

  it('merges a batch as one push; when the gate fails on the batch, only the bead that breaks it is sent back', async () => {
    town = await makeTown({ gate: 'test ! -f broken.txt' });
    const good = await scriptBead(town.rig, 'Good', ['echo g > good.txt']);
    const bad = await scriptBead(town.rig, 'Bad', ['echo b > broken.txt']);
    const other = await scriptBead(town.rig, 'Other', ['echo o > other.txt']);
    await queueBranch(town, good.id, 'good.txt', 'g\n');
    await queueBranch(town, bad.id, 'broken.txt', 'b\n');
    await queueBranch(town, other.id, 'other.txt', 'o\n');

    const pass = await refineryPass(town.rig, { env: process.env });

    expect(pass.merged.sort()).toEqual([good.id, other.id].sort());
    expect(pass.sentBack).toEqual([bad.id]);
    expect((await getBead(town.rig, bad.id)).status).toBe('hooked');
    const files = git(town.remote, ['ls-tree', '--name-only', 'main']).split('\n');
    expect(files).toEqual(expect.arrayContaining(['good.txt', 'other.txt']));
    expect(files).not.toContain('broken.txt');
  });

  it('merges a batch of independent beads with one push to main', async () => {
    town = await makeTown();
    git(town.remote, ['config', 'core.logAllRefUpdates', 'always']);
    const beads = [];
    for (const n of ['x', 'y', 'z']) {
      const b = await scriptBead(town.rig, n, [`echo ${n} > ${n}.txt`]);
      await queueBranch(town, b.id, `${n}.txt`, `${n}\n`);
      beads.push(b);
    }
    const mainBefore = git(town.remote, ['rev-parse', 'main']);

    const pass = await refineryPass(town.rig, { env: process.env });

    expect(pass.merged).toHaveLength(3);
    expect(remoteLog(town.remote)).toHaveLength(4);
    // The remote keeps a reflog now: main moved exactly once, straight from the old tip to the new.
    const reflog = git(town.remote, ['reflog', 'show', '--format=%H', 'refs/heads/main']).split('\n').filter(Boolean);
    expect(reflog).toEqual([git(town.remote, ['rev-parse', 'main'])]);
    expect(git(town.remote, ['rev-parse', 'main~3'])).toBe(mainBefore);
    for (const b of beads) expect((await getBead(town.rig, b.id)).closeReason).toMatch(/^merged as /);
  });

  it('reports a push the remote refuses (not a race) as an error, leaving the bead queued', async () => {
    town = await makeTown();
    const bead = await scriptBead(town.rig, 'Add feature', ['echo f > feature.txt']);
    await queueBranch(town, bead.id, 'feature.txt', 'f\n');
    const hook = join(town.remote, 'hooks', 'pre-receive');
    writeFileSync(hook, '#!/bin/sh\necho "main is protected" >&2\nexit 1\n', { mode: 0o755 });

    await expect(refineryPass(town.rig, { env: process.env })).rejects.toThrow(/could not push main to origin: .*main is protected/s);

    expect((await getBead(town.rig, bead.id)).status).toBe('in_review');
    rmSync(hook);
    expect((await refineryPass(town.rig, { env: process.env })).merged).toEqual([bead.id]);
  });

  it('merges a bead only once its blockers are closed', async () => {
    town = await makeTown();
    const a = await scriptBead(town.rig, 'First', ['echo a > a.txt']);
    const b = await scriptBead(town.rig, 'Second', ['echo b > b.txt'], { blockedBy: [a.id] });
    await queueBranch(town, a.id, 'a.txt', 'a\n');
    // b is in review too, but was forced there out of order: the queue must hold it back.
    await town.rig.ledger.transact(async (tx) => {
      const bead = (await tx.get<typeof b>('beads', b.id))!;
      tx.put('beads', b.id, { ...bead, status: 'in_review', branch: `polecat/x/${b.id}`, assignee: 'x' });
    });
    const mainBefore = git(town.remote, ['rev-parse', 'main']);
    git(town.clone, ['push', '-q', 'origin', `${mainBefore}:refs/heads/polecat/x/${b.id}`]);

    const pass = await refineryPass(town.rig, { env: process.env });

    expect(pass).toMatchObject({ merged: [a.id], waiting: [b.id] });
    expect(remoteLog(town.remote)[0]).toBe(`${a.id}: a.txt`);
    expect((await refineryPass(town.rig, { env: process.env })).merged).toEqual([b.id]);
    await town.rig.ledger.transact(async (tx) => {
      const bead = (await tx.get<typeof b>('beads', b.id))!;
      tx.put('beads', b.id, { ...bead, status: 'in_review' });
    });
    // With its blocker reopened, the same bead now waits.
    await town.rig.ledger.transact(async (tx) => {
      const bead = (await tx.get<typeof a>('beads', a.id))!;
      tx.put('beads', a.id, { ...bead, status: 'open' });
    });
    expect((await refineryPass(town.rig, { env: process.env })).waiting).toEqual([b.id]);
  });

  it('skips beads it cannot read or that are wrongly shaped, and merges the others', async () => {
    town = await makeTown();
    const bead = await scriptBead(town.rig, 'Add feature', ['echo f > feature.txt']);
    await queueBranch(town, bead.id, 'feature.txt', 'f\n');
    const shaped = JSON.stringify({ id: 'gt-bad3', status: 'in_review', branch: 'polecat/x/gt-bad3', pr: null, blockedBy: 'x' });
    writeRawEntity(town.clone, 'refs/gastown/beads/gt-bad1', BAD_BEADS.badJson());
    writeRawEntity(town.clone, 'refs/gastown/beads/gt-bad2', BAD_BEADS.noFile());
    writeRawEntity(town.clone, 'refs/gastown/beads/gt-bad3', { files: { 'bead.json': shaped }, message: `x\n\n${shaped}\n` });

    const pass = await refineryPass(town.rig, { env: process.env });

    expect(pass.merged).toEqual([bead.id]);
    expect((await getBead(town.rig, bead.id)).status).toBe('closed');
    expect(town.rig.ledger.skipped.map((s) => s.ref).sort()).toEqual([
      'refs/gastown/beads/gt-bad1',
      'refs/gastown/beads/gt-bad2',
      'refs/gastown/beads/gt-bad3',
    ]);
  });
});
