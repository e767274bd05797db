import { afterEach, expect, test } from 'vitest';
import { defaultRepoConfig } from '../../src/config/repo-config.js';
import type { ForgePort } from '../../src/forge/forge-port.js';
import { dispatchBeads } from '../../src/github/dispatch-beads.js';
import { recordRejected } from '../../src/rig/advance.js';
import { markMaterialised, recordPlan } from '../../src/rig/record-plan.js';
import { Rig } from '../../src/rig/rig.js';
import { townService } from '../../src/rig/town-service.js';
import { claimBead, finishBead } from '../../src/rig/work.js';
import type { Bead } from '../../src/town/types.js';
import { repoWithRemote, tempDir } from '../helpers/temp-repo.js';
import { silentLog } from './harness.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const task = (key: string) => ({ key, title: `Task ${key}`, description: key, acceptance: [], files: [], blockedBy: [] });

/** A rig with a one-bead GitHub convoy, and a forge that records what the app asks of GitHub. */
async function rigWithBead() {
  const root = tempDir('rejected-branch');
  cleanups.push(root.cleanup);
  const { remote, clone } = repoWithRemote(root.path);
  Rig.init(clone, { remote });
  const rig = await Rig.open({ repoDir: clone, actor: 'gastown[bot]' });
  cleanups.push(() => rig.close());
  const recorded = await recordPlan(rig, {
    sourceKey: 'github:acme/web#4',
    title: 'One thing',
    source: { kind: 'github', repo: 'acme/web', issue: { number: 4, id: 904, url: 'https://github.com/acme/web/issues/4' } },
    plan: { summary: 'one', beads: [task('a')] },
    planner: 'checklist',
    usage: null,
    requireApproval: false,
  });
  await markMaterialised(rig, recorded.convoy.id);
  const calls: string[] = [];
  const forge = {
    dispatchWorkflow: async (input: { inputs: { bead: string } }) => void calls.push(`dispatch ${input.inputs.bead}`),
    deleteBranch: async (branch: string) => void calls.push(`delete ${branch}`),
  } as unknown as ForgePort;
  const dispatch = () =>
    dispatchBeads(
      { forge, config: defaultRepoConfig(), defaultBranch: 'main', log: silentLog },
      { town: townService(rig), publish: async () => {}, replica: 'r1' },
    );
  return { rig, bead: recorded.beads[0]!, calls, dispatch };
}

/** The bead's first run: claimed, finished in review on its polecat's branch, then its pull request closed unmerged. */
async function rejectedOnce(rig: Rig, beadId: string, dispatch: () => Promise<string[]>, headBranch?: string) {
  await dispatch();
  const claim = (await claimBead(rig, { runner: 'job-1' }))!;
  await finishBead(rig, claim, { branch: claim.branch, pr: { number: 9, url: 'https://github.com/acme/web/pull/9' } });
  const open = await recordRejected(rig, beadId, 'pull request closed without merging', {
    branch: headBranch ?? claim.branch,
    tip: 'a'.repeat(40),
  });
  return { claim, open };
}

test('a pull request closed unmerged: the bead keeps its rejected branch and tip; re-slung to the same polecat, the branch is left for its run to replace', async () => {
  const { rig, bead, calls, dispatch } = await rigWithBead();
  const { claim, open } = await rejectedOnce(rig, bead.id, dispatch);
  expect(open).toMatchObject({ status: 'open', pr: null, rejected: { branch: claim.branch, tip: 'a'.repeat(40) } });

  calls.length = 0;
  expect(await dispatch()).toEqual([bead.id]);
  const slung = (await rig.ledger.get<Bead>('beads', bead.id))!.value;
  expect(slung.assignee).toBe(claim.polecat);
  expect(calls).toEqual([`dispatch ${bead.id}`]);

  // The new run finishes: the branch it pushed replaced the rejected one, nothing is left to clean.
  const again = (await claimBead(rig, { runner: 'job-2' }))!;
  const done = await finishBead(rig, again, { branch: again.branch });
  expect(done.rejected).toBeNull();
});

test('re-slung to another polecat, the rejected branch is deleted before the new run is dispatched', async () => {
  const { rig, bead, calls, dispatch } = await rigWithBead();
  // The closed pull request came from another polecat's branch of this bead (an earlier run of it).
  const { claim, open } = await rejectedOnce(rig, bead.id, dispatch, `polecat/someone/${bead.id}`);
  expect(open.rejected).toEqual({ branch: `polecat/someone/${bead.id}`, tip: 'a'.repeat(40) });
  calls.length = 0;
  expect(await dispatch()).toEqual([bead.id]);
  expect(calls).toEqual([`delete polecat/someone/${bead.id}`, `dispatch ${bead.id}`]);
  expect(claim.branch).not.toBe(`polecat/someone/${bead.id}`);
});
