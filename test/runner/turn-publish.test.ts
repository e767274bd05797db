/**
 * A budgeted convoy's turns published to the remote ledger (polecat/runner/budget-check.ts
 * with a sync): runners in separate clones of one bare remote see each other's turns in
 * flight and what the ended ones cost, without waiting for the sync cadence.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.js';
import { turnGuard } from '../../src/polecat/runner/budget-check.js';
import { claimOnRemote } from '../../src/polecat/runner/publish-claim.js';
import { remoteQueue } from '../../src/polecat/runner/town-link.js';
import { getBead } from '../../src/rig/beads.js';
import { createConvoy } from '../../src/rig/convoys.js';
import { Rig } from '../../src/rig/rig.js';
import { syncRig } from '../../src/rig/sync-rig.js';
import { TOWN_KINDS } from '../../src/rig/town-kinds.js';
import { endTurn, reserveTurn, type TurnBook } from '../../src/rig/turn-reservations.js';
import { claimBead, dispatchReady, type Claim } from '../../src/rig/work.js';
import type { ModelUsage } from '../../src/town/types.js';
import { git } from '../helpers/temp-repo.js';
import { makeTown, scriptBead, type Town } from './town-fixture.js';

let town: Town | undefined;
const rigs: Rig[] = [];
afterEach(() => {
  for (const r of rigs.splice(0)) r.close();
  town?.cleanup();
  town = undefined;
});

const SETTINGS = { remote: 'origin', heartbeatMs: 200, leaseMs: 120_000, concurrency: 3 };
const TURN: ModelUsage = { inputTokens: 1000, outputTokens: 100, cacheReadTokens: 200, cacheWriteTokens: 50, costUsd: 0 };

async function cloneRig(town: Town, name: string): Promise<Rig> {
  const dir = join(town.root, name);
  git(town.root, ['clone', '-q', town.remote, dir]);
  Rig.init(dir, { ...SETTINGS, concurrency: 1 });
  const rig = await Rig.open({ repoDir: dir, actor: name });
  rigs.push(rig);
  await syncRig(rig, 'origin');
  return rig;
}

async function remoteBook(convoy: string): Promise<TurnBook | null> {
  const remote = await Ledger.open({ kinds: TOWN_KINDS, repoDir: town!.remote });
  try {
    return (await remote.get<TurnBook>('meta', `turns.${convoy}`))?.value ?? null;
  } finally {
    remote.close();
  }
}

/** The bead `id` claimed in `rig` (published), and a turn guard for it that publishes its turns. */
async function guardIn(rig: Rig, id: string, sleep?: (ms: number) => Promise<void>) {
  const claim = (await claimOnRemote(
    rig,
    'origin',
    () => claimBead(rig, { runner: rig.actor, bead: id, track: true }),
    () => undefined,
  )) as Claim;
  expect(claim).toMatchObject({ bead: id });
  const bead = await getBead(rig, id);
  const guard = turnGuard({
    rig,
    claim,
    bead,
    agent: 'builtin',
    sleep,
    sync: { remote: 'origin', everyMs: 600_000, queue: remoteQueue() },
  });
  return { guard, holder: `${claim.polecat}/${id}/0.${claim.attempt}` };
}

describe("a budgeted convoy's turns across clones", () => {
  it('a turn held in one clone makes another wait until its release is published, and the summed cost stops a third', async () => {
    town = await makeTown(SETTINGS);
    const beads = [];
    for (const t of ['a', 'b', 'c']) beads.push(await scriptBead(town.rig, t, ['true']));
    const convoy = (
      await createConvoy(
        town.rig,
        'three',
        beads.map((b) => b.id),
        { budget: { tokens: 1400 } },
      )
    ).id;
    expect(await dispatchReady(town.rig)).toHaveLength(3);
    await syncRig(town.rig, 'origin');
    const [one, two, three] = [await cloneRig(town, 'one'), await cloneRig(town, 'two'), await cloneRig(town, 'three')];

    // One's turn is on the remote as soon as it is reserved.
    const a = await guardIn(one, beads[0]!.id);
    expect(await a.guard.halted()).toBeNull();
    expect((await remoteBook(convoy))?.turns.map((t) => t.holder)).toEqual([a.holder]);

    // Two's view (synced before one reserved) shows no turn in flight: its reservation loses on
    // the remote, is undone, and after a sync it waits; one's turn ends meanwhile (1,350 tokens).
    const waits: number[] = [];
    const b = await guardIn(two, beads[1]!.id, async (ms) => {
      waits.push(ms);
      if (waits.length === 1) await a.guard.reportUsage(TURN);
    });
    expect(await b.guard.halted()).toBeNull();
    expect(waits).toEqual([100]);
    const book = await remoteBook(convoy);
    expect(book?.turns.map((t) => t.holder)).toEqual([b.holder]);
    expect(book?.spent).toEqual(TURN);
    expect(book?.largest).toEqual(TURN);

    // Two's turn ends too: 2,700 tokens spent, recorded on beads that never left clones one and
    // two. Three knows of it from the book alone and does not start.
    await b.guard.reportUsage(TURN);
    expect((await remoteBook(convoy))?.spent?.inputTokens).toBe(2000);
    const c = await guardIn(three, beads[2]!.id);
    expect(await c.guard.halted()).toBe(`stopped by the runner: budget spent: 2700 of 1400 tokens (convoy ${convoy})`);
    expect(c.guard.halt?.kind).toBe('budget');
    expect((await remoteBook(convoy))?.turns).toEqual([]);
  }, 60_000);

  it("a release counts its turn's cost once in the book, however often it is retried", async () => {
    town = await makeTown(SETTINGS);
    const bead = await scriptBead(town.rig, 'a', ['true']);
    const convoy = (await createConvoy(town.rig, 'one', [bead.id], { budget: { tokens: 1_000_000 } })).id;
    const hold = { holder: `p/${bead.id}/0.1`, polecat: 'p', bead: bead.id };
    expect((await reserveTurn(town.rig, convoy, hold)).kind).toBe('go');
    // A retry after the release landed (say its push's answer was lost) finds the turn gone and adds nothing.
    for (let i = 0; i < 2; i++) await endTurn(town.rig, convoy, hold.holder, TURN);
    const book = (await town.rig.ledger.get<TurnBook>('meta', `turns.${convoy}`))?.value;
    expect(book).toMatchObject({ turns: [], spent: TURN, largest: TURN });
  });
});
