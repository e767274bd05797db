/**
 * A replica that stops between its dispatch mark's push and the `workflow_dispatch` call
 * (issue 15): the sling is marked on the remote and GitHub has no run. Two replicas on one
 * real remote; GitHub's side is a forge double that records the runs it starts and lists them
 * by title, as GitHub's `GET /actions/workflows/:file/runs` does.
 */
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { defaultRepoConfig } from '../../src/config/repo-config.js';
import type { ForgePort, WorkflowRunSummary } from '../../src/forge/forge-port.js';
import { dispatchBeads } from '../../src/github/dispatch-beads.js';
import { markMaterialised, recordPlan } from '../../src/rig/record-plan.js';
import { Rig } from '../../src/rig/rig.js';
import { syncRig } from '../../src/rig/sync-rig.js';
import { townService } from '../../src/rig/town-service.js';
import { polecatRunTitle } from '../../src/town/ids.js';
import type { Bead, Hook } from '../../src/town/types.js';
import { git, repoWithRemote, tempDir } from '../helpers/temp-repo.js';
import { silentLog } from './harness.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const task = (key: string) => ({ key, title: `Task ${key}`, description: key, acceptance: [], files: [], blockedBy: [] });

/** GitHub's workflow runs: `dispatchWorkflow` starts one (unless `crash` says this replica dies first), `workflowRunsSince` lists them. */
class Runs {
  readonly runs: (WorkflowRunSummary & { bead: string })[] = [];
  #id = 100;
  forge(now: () => Date, crash: (bead: string) => boolean = () => false): ForgePort {
    return {
      dispatchWorkflow: async (input: { inputs: { bead: string } }) => {
        const bead = input.inputs.bead;
        // The process dies before its request leaves: no run, and nothing after this point runs.
        if (crash(bead)) return new Promise<void>(() => undefined);
        this.runs.push({ id: this.#id++, bead, title: polecatRunTitle(bead), createdAt: now().toISOString() });
      },
      workflowRunsSince: async (_workflow: string, since: string) =>
        this.runs.filter((r) => r.createdAt >= since).map(({ bead: _, ...r }) => r),
    } as unknown as ForgePort;
  }
  of(bead: string): number {
    return this.runs.filter((r) => r.bead === bead).length;
  }
}

async function twoReplicas() {
  const root = tempDir('dispatch-lost');
  cleanups.push(root.cleanup);
  const { remote, clone } = repoWithRemote(root.path);
  const second = join(root.path, 'rig-b');
  git(root.path, ['clone', '-q', remote, second]);
  let now = Date.parse('2026-05-01T10:00:00Z');
  const clock = () => new Date(now);
  const open = async (dir: string) => {
    Rig.init(dir, { remote });
    const rig = await Rig.open({ repoDir: dir, actor: 'gastown[bot]', now: clock });
    cleanups.push(() => rig.close());
    return rig;
  };
  const [a, b] = [await open(clone), await open(second)];
  const recorded = await recordPlan(a, {
    sourceKey: 'github:acme/web#4',
    title: 'Two things',
    source: {
      kind: 'github',
      repo: 'acme/web',
      issue: { number: 4, id: 904, url: 'https://github.com/acme/web/issues/4' },
      goal: 'x',
      requestedBy: 'ada',
    },
    plan: { summary: 'two', beads: ['a', 'b'].map(task) },
    planner: 'checklist',
    usage: null,
    requireApproval: false,
  });
  await markMaterialised(a, recorded.convoy.id);
  await syncRig(a, remote);
  const config = { ...defaultRepoConfig(), concurrency: 2 };
  const pass = (rig: Rig, replica: string, forge: ForgePort, graceMs = 60_000) =>
    dispatchBeads(
      { forge, config, defaultBranch: 'main', log: silentLog },
      { town: townService(rig), publish: async () => void (await syncRig(rig, remote)), replica, dispatchGraceMs: graceMs },
    );
  return { a, b, remote, clock, advance: (ms: number) => void (now += ms), pass, ids: recorded.beads.map((x) => x.id).sort() };
}

test('a replica that died after pushing its marks and before its calls: once the grace is over another replica finds no run, slings anew and dispatches each bead once', async () => {
  const t = await twoReplicas();
  const github = new Runs();
  const [first, secondBead] = t.ids as [string, string];

  // Replica A marks both slings, pushes the marks, dispatches the first bead, then dies on its
  // way to the second call (the pass never returns).
  void t.pass(
    t.a,
    'replica-a',
    github.forge(t.clock, (bead) => bead === secondBead),
  );
  await expect.poll(() => github.of(first), { timeout: 20_000 }).toBe(1);
  await new Promise((r) => setTimeout(r, 200));

  // Replica B, within the grace: the second bead is marked (by A, alone), so it is not B's to dispatch.
  await syncRig(t.b, t.remote);
  const marked = (await t.b.ledger.get<Bead>('beads', secondBead))!.value;
  expect(marked.labels.filter((l) => l.startsWith('dispatched:'))).toHaveLength(1);
  expect(await t.pass(t.b, 'replica-b', github.forge(t.clock))).toEqual([]);
  expect(github.runs.map((r) => r.bead)).toEqual([first]);

  // Past the grace: GitHub lists no run for the second bead since its sling, so B slings it
  // anew (same polecat) and dispatches it. The first bead's run is listed: only recorded.
  t.advance(61_000);
  const before = (await t.b.ledger.get<Hook>('hooks', marked.assignee!))!.value;
  expect(await t.pass(t.b, 'replica-b', github.forge(t.clock))).toEqual([secondBead]);
  expect(github.of(first)).toBe(1);
  expect(github.of(secondBead)).toBe(1);
  const after = await t.b.ledger.get<Bead>('beads', secondBead);
  const hook = (await t.b.ledger.get<Hook>('hooks', marked.assignee!))!.value;
  expect(after!.value.assignee).toBe(marked.assignee);
  expect(after!.value.attempts).toBe(marked.attempts);
  expect(hook.slungAt).not.toBe(before.slungAt);
  expect(after!.value.labels).toContain(`dispatched:${marked.assignee}@${hook.slungAt}#replica-b`);
  expect(after!.value.labels).toContain(`dispatch-sent:${marked.assignee}@${hook.slungAt}`);
  const firstBead = (await t.b.ledger.get<Bead>('beads', first))!.value;
  expect(firstBead.labels.some((l) => l.startsWith('dispatch-sent:'))).toBe(true);

  // Later passes, on either replica, long after: nothing more is dispatched.
  await syncRig(t.b, t.remote);
  t.advance(600_000);
  expect(await t.pass(t.b, 'replica-b', github.forge(t.clock))).toEqual([]);
  expect(await t.pass(t.a, 'replica-a', github.forge(t.clock))).toEqual([]);
  expect(github.runs).toHaveLength(2);
}, 60_000);

test('a replica that died after its call got through but before recording it: the run GitHub lists is recorded, no second run', async () => {
  const t = await twoReplicas();
  const github = new Runs();
  const [first, secondBead] = t.ids as [string, string];
  // Both calls reach GitHub; the replica dies before it records the second (its ledger
  // push of the record never happens): the remote holds both marks, one call recorded.
  await t.pass(t.a, 'replica-a', github.forge(t.clock));
  expect(github.runs.map((r) => r.bead).sort()).toEqual([first, secondBead].sort());
  await syncRig(t.b, t.remote);
  const stripped = async (id: string) => {
    const bead = (await t.b.ledger.get<Bead>('beads', id))!.value;
    return bead.labels.filter((l) => !l.startsWith('dispatch-sent:'));
  };
  // The remote as the dying replica left it: its records not pushed.
  expect(await stripped(secondBead)).toHaveLength(1);
  await t.b.ledger.transact(async (tx) => {
    const bead = (await tx.get<Bead>('beads', secondBead))!;
    tx.put<Bead>('beads', secondBead, { ...bead, labels: bead.labels.filter((l) => !l.startsWith('dispatch-sent:')) });
  });
  t.advance(61_000);
  expect(await t.pass(t.b, 'replica-b', github.forge(t.clock))).toEqual([]);
  expect(github.runs).toHaveLength(2);
  expect((await t.b.ledger.get<Bead>('beads', secondBead))!.value.labels.some((l) => l.startsWith('dispatch-sent:'))).toBe(true);
}, 60_000);
