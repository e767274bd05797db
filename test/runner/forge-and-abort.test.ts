import { afterEach, describe, expect, it } from 'vitest';
import type { ForgePort, OpenPullRequestInput } from '../../src/forge/forge-port.js';
import { LocalForge } from '../../src/forge/local-forge.js';
import { createScriptAgent } from '../../src/polecat/agents/script-agent.js';
import { createProgressBoard } from '../../src/polecat/runner/progress-board.js';
import { runRunner } from '../../src/polecat/runner/run-runner.js';
import { getBead } from '../../src/rig/beads.js';
import { readFeed } from '../../src/rig/feed.js';
import { claimBead } from '../../src/rig/work.js';
import { git } from '../helpers/temp-repo.js';
import { makeTown, scriptBead, type Town } from './town-fixture.js';

let town: Town | undefined;
afterEach(() => town?.cleanup());

/** A GitHub-shaped forge that records pull requests instead of calling GitHub. */
function recordingForge(): ForgePort & { prs: OpenPullRequestInput[] } {
  const local = new LocalForge();
  const prs: OpenPullRequestInput[] = [];
  return {
    ensureChildIssues: () => local.ensureChildIssues(),
    ensureBlockedBy: () => local.ensureBlockedBy(),
    removeBlockedBy: () => local.removeBlockedBy(),
    ensureIssueText: () => local.ensureIssueText(),
    ensureStatusComment: (issue, markdown) => local.ensureStatusComment(issue, markdown),
    setLabels: () => local.setLabels(),
    comment: () => local.comment(),
    closeIssue: () => local.closeIssue(),
    dispatchWorkflow: () => local.dispatchWorkflow(),
    hostsPullRequests: true,
    prs,
    async openPullRequest(input) {
      prs.push(input);
      return { number: 40 + prs.length, url: `https://github.test/o/r/pull/${40 + prs.length}` };
    },
  };
}

describe('runner with a forge', () => {
  it("opens a pull request that closes the bead's issue, records it, and leaves merging to the forge", async () => {
    town = await makeTown();
    const bead = await scriptBead(town.rig, 'Add greeting', ['echo hi > hi.txt']);
    await town.rig.ledger.transact(async (tx) => {
      const b = (await tx.get<typeof bead>('beads', bead.id))!;
      tx.put('beads', bead.id, { ...b, issue: { number: 7, url: 'https://github.test/o/r/issues/7' } });
    });
    const forge = recordingForge();
    const mainBefore = git(town.remote, ['rev-parse', 'main']);

    const summary = await runRunner({
      rig: town.rig,
      agentFactory: () => createScriptAgent(),
      forge,
      untilIdle: true,
      draft: true,
      pollMs: 50,
    });

    expect(summary.merged).toEqual([]);
    expect(forge.prs).toHaveLength(1);
    expect(forge.prs[0]).toMatchObject({
      head: `polecat/${summary.outcomes[0]!.polecat}/${bead.id}`,
      base: 'main',
      title: 'Add greeting',
      draft: true,
    });
    expect(forge.prs[0]!.body).toMatch(/^Closes #7\n/);
    const after = await getBead(town.rig, bead.id);
    expect(after).toMatchObject({ status: 'in_review', pr: { number: 41, url: 'https://github.test/o/r/pull/41' } });
    expect((await readFeed(town.rig)).find((e) => e.type === 'pr_opened')?.url).toBe('https://github.test/o/r/pull/41');
    expect(git(town.remote, ['rev-parse', 'main'])).toBe(mainBefore);
    expect(git(town.remote, ['show', `${forge.prs[0]!.head}:hi.txt`])).toBe('hi');
  });
});

describe('runner shutdown', () => {
  it('releases the bead it holds when stopped, so another runner can claim it at once', async () => {
    town = await makeTown();
    const bead = await scriptBead(town.rig, 'Slow', ['echo a > a.txt', 'sleep 20']);
    const stop = new AbortController();
    const lines: string[] = [];
    const out = { write: (s: string) => (lines.push(s), true), isTTY: false } as unknown as NodeJS.WritableStream;
    const running = runRunner({
      rig: town.rig,
      agentFactory: () => createScriptAgent(),
      signal: stop.signal,
      progress: createProgressBoard(out),
      pollMs: 50,
    });
    while (!lines.some((l) => l.includes('step 2/2'))) await new Promise((r) => setTimeout(r, 25));

    stop.abort();
    const summary = await running;

    expect(
      summary.outcomes.map((o) => o.outcome),
      lines.join(''),
    ).toEqual(['released']);
    expect((await getBead(town.rig, bead.id)).status).toBe('hooked');
    const next = await claimBead(town.rig, { runner: 'other' });
    expect(next).toMatchObject({ bead: bead.id, attempt: 2, takeover: false });
    expect(lines.join('')).toMatch(new RegExp(`^\\S+\\s+${bead.id}\\s+step 1/2: echo a > a.txt$`, 'm'));
  });
});
