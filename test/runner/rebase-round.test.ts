/**
 * Issue 13 part 3 locally: after the Refinery merges a bead, beads waiting for review whose
 * branches now conflict with main get a conflict round; the runner rebases before any agent
 * runs. A conflict is the agent's to resolve, and the round counts only when it edited files
 * that were not in conflict; a clean rebase (asked for as GitHub asks when a branch is behind)
 * is pushed without the agent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createScriptAgent } from '../../src/polecat/agents/script-agent.js';
import { runRunner } from '../../src/polecat/runner/run-runner.js';
import { approveReview, requestRevision } from '../../src/rig/revise-bead.js';
import { getBead } from '../../src/rig/beads.js';
import { getConvoy } from '../../src/rig/convoys.js';
import { inbox } from '../../src/rig/mail.js';
import { git } from '../helpers/temp-repo.js';
import { convoyOf, makeTown, scriptBead, type Town } from './town-fixture.js';

let town: Town | undefined;
afterEach(() => town?.cleanup());

const run = (t: Town) => runRunner({ rig: t.rig, agentFactory: () => createScriptAgent(), untilIdle: true, pollMs: 50, log: () => {} });

/** Each run of a bead's steps leaves one line in its own log, so a test can count agent runs. */
const counted = (name: string, step: string) => `echo run >> ${name}.runs; ${step}`;

describe('the rebase round (review: required)', () => {
  it('a merge sends conflicting siblings back; the agent resolves only the conflict (not counted) or more (counted); a clean rebase needs no agent', async () => {
    town = await makeTown({ review: 'required' }, { 'README.md': '# town\n', 'shared.txt': 'base\n', 'other.txt': 'base\n' });
    const { rig, remote } = town;
    const a = await scriptBead(rig, 'Say A', [counted('a', `printf 'A\\n' > shared.txt; printf 'A\\n' > other.txt`)]);
    // B resolves a conflict by keeping both lines (and touches nothing else: the resolved text
    // shows it ran); D also rewrites a file that was not in conflict.
    const b = await scriptBead(rig, 'Say B', [
      `if grep -q '^<<<<<<<' shared.txt; then printf 'A\\nB\\n' > shared.txt; else printf 'B\\n' > shared.txt; fi`,
    ]);
    const d = await scriptBead(rig, 'Say D', [
      counted(
        'd',
        `if grep -q '^<<<<<<<' other.txt; then printf 'A\\nD\\n' > other.txt; printf 'rewritten\\n' > README.md; else printf 'D\\n' > other.txt; fi`,
      ),
    ]);
    const c = await scriptBead(rig, 'Add C', [counted('c', `printf 'C\\n' > c.txt`)]);
    const convoy = await convoyOf(rig, 'letters', [a, b, d, c]);
    await run(town);
    for (const x of [a, b, c, d]) expect((await getBead(rig, x.id)).status).toBe('in_review');
    const [bBranch, cBranch, dBranch] = await Promise.all([b, c, d].map(async (x) => (await getBead(rig, x.id)).branch!));
    const bBefore = git(remote, ['rev-parse', bBranch!]);
    const cBefore = git(remote, ['rev-parse', cBranch!]);
    const cCommits = git(remote, ['rev-list', '--count', `main..${cBefore}`]);

    // A is approved and merged: B and D now conflict with main (C does not) and go back.
    await approveReview(rig, a.id, 'tester');
    const second = await run(town);
    expect(second.merged).toEqual([a.id]);
    const main = git(remote, ['rev-parse', 'main']);
    for (const [x, branch] of [
      [b, bBranch],
      [d, dBranch],
    ] as const) {
      const after = await getBead(rig, x.id);
      expect(after.status).toBe('in_review');
      // Rebased onto main: main is an ancestor, the conflict resolved, pushed over the old history.
      expect(git(remote, ['merge-base', '--is-ancestor', main, branch!])).toBe('');
      expect(git(remote, ['show', `${branch}:${x === b ? 'shared' : 'other'}.txt`])).toBe(`A\n${x === b ? 'B' : 'D'}`);
      expect((await inbox(rig, after.assignee!)).filter((m) => m.bead === x.id && m.type === 'REVISION_REQUESTED' && !m.read)).toEqual([]);
    }
    expect(git(remote, ['rev-parse', bBranch!])).not.toBe(bBefore);
    // Only the conflict resolved: not a counted round. Code edited beyond it: counted.
    expect((await getBead(rig, b.id)).revisions ?? 0).toBe(0);
    expect((await getBead(rig, d.id)).revisions).toBe(1);
    expect(git(remote, ['show', `${dBranch}:d.runs`])).toBe('run\nrun');
    expect(git(remote, ['show', `${dBranch}:README.md`])).toBe('rewritten');
    // C still merges cleanly: untouched.
    expect(git(remote, ['rev-parse', cBranch!])).toBe(cBefore);
    expect((await getBead(rig, c.id)).status).toBe('in_review');

    // A clean rebase (as GitHub asks for a branch behind main): pushed without the agent.
    const asked = await requestRevision(rig, c.id, { by: 'gastown', kind: 'conflict', text: 'main moved: rebase', key: 'rebase:test' });
    expect(asked).toMatchObject({ action: 'revise', round: 0 });
    await run(town);
    const cAfter = await getBead(rig, c.id);
    expect(cAfter).toMatchObject({ status: 'in_review' });
    expect(cAfter.revisions ?? 0).toBe(0);
    expect(git(remote, ['merge-base', '--is-ancestor', main, cBranch!])).toBe('');
    expect(git(remote, ['show', `${cBranch}:c.runs`])).toBe('run');
    // Its own commits replayed (a rebase, not a squash), nothing added.
    expect(git(remote, ['rev-list', '--count', `main..${cBranch}`])).toBe(cCommits);

    // Everything approved: all merge once and the convoy lands.
    for (const x of [b, c, d]) await approveReview(rig, x.id, 'tester');
    const last = await run(town);
    expect(last.merged.sort()).toEqual([b.id, c.id, d.id].sort());
    expect((await getConvoy(rig, convoy)).status).toBe('landed');
  }, 120_000);
});
