import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { recordPlan, type RecordPlanInput } from '../../src/rig/record-plan.js';
import { Rig } from '../../src/rig/rig.js';
import { syncRig } from '../../src/rig/sync-rig.js';
import type { Bead, Convoy } from '../../src/town/types.js';
import { git, repoWithRemote, tempDir } from '../helpers/temp-repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function input(): RecordPlanInput {
  const bead = (key: string, title: string, blockedBy: string[] = []) => ({
    key,
    title,
    description: title,
    acceptance: [],
    files: [],
    blockedBy,
  });
  return {
    sourceKey: 'github:acme/web#7',
    title: 'Health check',
    source: {
      kind: 'github',
      repo: 'acme/web',
      issue: { number: 7, id: 907, url: 'https://github.com/acme/web/issues/7' },
      goal: 'Health check',
      requestedBy: 'ada',
    },
    plan: { summary: 'two steps', beads: [bead('api', 'Add the endpoint'), bead('docs', 'Document it', ['api'])] },
    planner: 'checklist',
    usage: null,
    requireApproval: false,
  };
}

test('two replicas that record the same plan at once write the same bead refs: after sync, one convoy of two beads', async () => {
  const root = tempDir('plan-replicas');
  cleanups.push(root.cleanup);
  const { remote, clone } = repoWithRemote(root.path);
  const second = join(root.path, 'rig-b');
  git(root.path, ['clone', '-q', remote, second]);
  const open = async (dir: string, at: string) => {
    Rig.init(dir, { remote });
    const rig = await Rig.open({ repoDir: dir, actor: 'gastown[bot]', now: () => new Date(at) });
    cleanups.push(() => rig.close());
    return rig;
  };
  const a = await open(clone, '2026-03-01T10:00:00.000Z');
  const b = await open(second, '2026-03-01T10:00:00.350Z');

  const [planA, planB] = await Promise.all([recordPlan(a, input()), recordPlan(b, input())]);
  expect(planA.beads.map((x) => x.id)).toEqual(planB.beads.map((x) => x.id));
  expect(planA.beads.map((x) => x.id).every((id) => /^gt-[0-9a-z]{6}$/.test(id))).toBe(true);

  for (const rig of [a, b, a]) await syncRig(rig, remote);
  for (const rig of [a, b]) {
    const convoys = await rig.ledger.list<Convoy>('convoys');
    expect(convoys).toHaveLength(1);
    expect([...convoys[0]!.value.beads].sort()).toEqual(planA.beads.map((x) => x.id).sort());
    expect((await rig.ledger.list<Bead>('beads')).map((x) => x.id).sort()).toEqual(planA.beads.map((x) => x.id).sort());
  }
});
