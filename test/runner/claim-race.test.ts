/**
 * Issue 15 part 2: a claim is visible at once. Runners in separate clones of one bare remote
 * publish each claim there (an atomic, leased push) before the agent starts, so a second
 * runner for the same bead sees it and works nothing, and many runners racing for many beads
 * work each bead exactly once.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createScriptAgent } from '../../src/polecat/agents/script-agent.js';
import { claimOnRemote } from '../../src/polecat/runner/publish-claim.js';
import type { RunnerSummary } from '../../src/polecat/runner/run-runner.js';
import { runRunner } from '../../src/polecat/runner/run-runner.js';
import { createNoSandbox } from '../../src/polecat/sandbox/no-sandbox.js';
import { allBeads, getBead } from '../../src/rig/beads.js';
import { readFeed } from '../../src/rig/feed.js';
import { Rig } from '../../src/rig/rig.js';
import { syncRig } from '../../src/rig/sync-rig.js';
import { claimBead, dispatchReady } from '../../src/rig/work.js';
import { git } from '../helpers/temp-repo.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { TOWN_KINDS } from '../../src/rig/town-kinds.js';
import { makeTown, scriptBead, type Town } from './town-fixture.js';

let town: Town | undefined;
const rigs: Rig[] = [];
afterEach(() => {
  for (const r of rigs.splice(0)) r.close();
  town?.cleanup();
});

const SETTINGS = { remote: 'origin', heartbeatMs: 200, leaseMs: 120_000, concurrency: 20 };

/** Another clone of the town's remote, made a rig that syncs with it. */
async function cloneRig(town: Town, name: string): Promise<Rig> {
  const dir = join(town.root, name);
  git(town.root, ['clone', '-q', town.remote, dir]);
  Rig.init(dir, { ...SETTINGS, concurrency: 2 });
  const rig = await Rig.open({ repoDir: dir, actor: name });
  rigs.push(rig);
  return rig;
}

const worker = fileURLToPath(new URL('./workers/race-runner.ts', import.meta.url));

function runChild(clone: string, id: string): Promise<RunnerSummary> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker, clone, id, '1000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) =>
      code === 0
        ? resolve({ ...(JSON.parse(out) as RunnerSummary), log: err } as RunnerSummary)
        : reject(new Error(`runner ${id} exited ${code}: ${err}`)),
    );
  });
}

describe('claims published to the remote', () => {
  it('a second runner for a bead another clone claimed finds out at its claim and works nothing', async () => {
    town = await makeTown(SETTINGS);
    const bead = await scriptBead(town.rig, 'Once only', ['echo once > once.txt']);
    await dispatchReady(town.rig);
    await syncRig(town.rig, 'origin');
    const first = await cloneRig(town, 'first');
    const second = await cloneRig(town, 'second');
    await syncRig(first, 'origin');
    // The second clone synced before the first one claimed: its view still says "hooked".
    await syncRig(second, 'origin');

    const won = await claimOnRemote(
      first,
      'origin',
      () => claimBead(first, { runner: 'one', bead: bead.id, track: true }),
      () => undefined,
    );
    expect(won).toMatchObject({ bead: bead.id, runner: 'one' });
    // On the remote at once, before any agent ran.
    const remote = await Ledger.open({ kinds: TOWN_KINDS, repoDir: town.remote });
    try {
      expect((await remote.get('beads', bead.id))?.value).toMatchObject({ status: 'in_progress' });
    } finally {
      remote.close();
    }

    const notes: string[] = [];
    const lost = await claimOnRemote(
      second,
      'origin',
      () => claimBead(second, { runner: 'two', bead: bead.id, track: true }),
      (l) => notes.push(l),
    );
    expect(lost).toBeNull();
    expect(notes.join('\n')).toContain(`claim of ${bead.id} lost on the remote`);
    // Its local claim was undone and the winner's came in: same bead everywhere, nothing merged over it.
    const seen = await getBead(second, bead.id);
    expect(seen).toMatchObject({ status: 'in_progress', attempts: 1 });
    expect((await second.ledger.get('heartbeats', seen.assignee!))?.value).toMatchObject({ runner: 'one' });
    expect((await readFeed(second)).some((e) => e.message.includes(`two gave up its claim of ${bead.id}`))).toBe(true);

    // A whole runner run for the bead there (as a second Actions job would) works nothing.
    const summary = await runRunner({
      rig: second,
      agentFactory: () => createScriptAgent(),
      once: true,
      bead: bead.id,
      runnerId: 'two',
      refinery: false,
      syncMs: 60_000,
      sandbox: createNoSandbox(),
      log: () => undefined,
    });
    expect(summary.outcomes).toEqual([]);
    expect(git(town.remote, ['branch', '--list', 'polecat/*'])).toBe('');
  });

  it('8 runners in separate clones racing for 20 beads work each bead exactly once', async () => {
    town = await makeTown(SETTINGS);
    const marks = join(town.root, 'marks');
    mkdirSync(marks);
    for (let i = 0; i < 20; i++)
      await scriptBead(town.rig, `bead ${i}`, [`mktemp "${marks}/$GASTOWN_BEAD.XXXXXX" >/dev/null; sleep 0.2; echo ${i} > f${i}.txt`]);
    expect(await dispatchReady(town.rig)).toHaveLength(20);
    await syncRig(town.rig, 'origin');
    const clones: string[] = [];
    for (let i = 0; i < 8; i++) {
      const rig = await cloneRig(town, `clone-${i}`);
      clones.push(rig.repoDir);
    }

    const summaries = await Promise.all(clones.map((dir, i) => runChild(dir, `runner-${i}`)));

    const beads = (await allBeads(town.rig)).map((b) => b.id).sort();
    const worked = summaries.flatMap((s) => s.outcomes);
    expect(
      worked.filter((o) => o.outcome !== 'in_review'),
      JSON.stringify(summaries),
    ).toEqual([]);
    expect(worked.map((o) => o.bead).sort()).toEqual(beads);
    // Each agent run left one mark: one per bead, none twice.
    const perBead = new Map<string, number>();
    for (const f of readdirSync(marks)) perBead.set(f.split('.')[0]!, (perBead.get(f.split('.')[0]!) ?? 0) + 1);
    expect([...perBead.keys()].sort()).toEqual(beads);
    expect(Object.fromEntries([...perBead].filter(([, n]) => n !== 1)), JSON.stringify(summaries)).toEqual({});
    // More than one runner took part, and the remote ledger has every bead finished.
    expect(summaries.filter((s) => s.outcomes.length > 0).length).toBeGreaterThan(1);
    await syncRig(town.rig, 'origin');
    expect((await allBeads(town.rig)).map((b) => b.status)).toEqual(Array(20).fill('in_review'));
  }, 300_000);
});
