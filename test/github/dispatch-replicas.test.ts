import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { defaultRepoConfig } from '../../src/config/repo-config.js';
import type { ForgePort } from '../../src/forge/forge-port.js';
import { dispatchBeads } from '../../src/github/dispatch-beads.js';
import { markMaterialised, recordPlan } from '../../src/rig/record-plan.js';
import { Rig } from '../../src/rig/rig.js';
import { syncRig } from '../../src/rig/sync-rig.js';
import { townService } from '../../src/rig/town-service.js';
import type { Bead } from '../../src/town/types.js';
import { git, repoWithRemote, tempDir } from '../helpers/temp-repo.js';
import { silentLog } from './harness.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const task = (key: string) => ({ key, title: `Task ${key}`, description: key, acceptance: [], files: [], blockedBy: [] });

test('two replicas dispatching the same slings at once: each bead gets one workflow run', async () => {
  const root = tempDir('dispatch-replicas');
  cleanups.push(root.cleanup);
  const { remote, clone } = repoWithRemote(root.path);
  const second = join(root.path, 'rig-b');
  git(root.path, ['clone', '-q', remote, second]);
  const open = async (dir: string) => {
    Rig.init(dir, { remote });
    const rig = await Rig.open({ repoDir: dir, actor: 'gastown[bot]' });
    cleanups.push(() => rig.close());
    return rig;
  };
  const [a, b] = [await open(clone), await open(second)];

  // A convoy of six independent beads on GitHub, slung by replica A and seen by both.
  const recorded = await recordPlan(a, {
    sourceKey: 'github:acme/web#3',
    title: 'Six things',
    source: {
      kind: 'github',
      repo: 'acme/web',
      issue: { number: 3, id: 903, url: 'https://github.com/acme/web/issues/3' },
      goal: 'x',
      requestedBy: 'ada',
    },
    plan: { summary: 'six', beads: ['a', 'b', 'c', 'd', 'e', 'f'].map(task) },
    planner: 'checklist',
    usage: null,
    requireApproval: false,
  });
  await markMaterialised(a, recorded.convoy.id);
  const config = { ...defaultRepoConfig(), concurrency: 6 };
  expect(await townService(a).pendingDispatch(config.concurrency)).toHaveLength(6);
  await syncRig(a, remote);
  await syncRig(b, remote);

  const runs: string[] = [];
  const forge = {
    dispatchWorkflow: async (input: { inputs: { bead: string } }) => void runs.push(input.inputs.bead),
  } as unknown as ForgePort;
  const replica = (rig: Rig, name: string) =>
    dispatchBeads(
      { forge, config, defaultBranch: 'main', log: silentLog },
      { town: townService(rig), publish: async () => void (await syncRig(rig, remote)), replica: name },
    );
  const [byA, byB] = await Promise.all([replica(a, 'replica-a'), replica(b, 'replica-b')]);

  expect([...runs].sort()).toEqual(recorded.beads.map((x) => x.id).sort());
  expect(byA.length + byB.length).toBe(6);
  // Once both have synced, every bead says who dispatched it, and a later pass dispatches nothing more.
  await syncRig(a, remote);
  await syncRig(b, remote);
  await syncRig(a, remote);
  expect(await Promise.all([replica(a, 'replica-a'), replica(b, 'replica-b')])).toEqual([[], []]);
  for (const bead of (await a.ledger.list<Bead>('beads')).map((x) => x.value))
    expect(bead.labels.filter((l) => l.startsWith('dispatched:')).length).toBeGreaterThanOrEqual(1);
  expect(runs).toHaveLength(6);
}, 60_000);
