/**
 * The runner's hand on an agent between turns, outside the model (so no prompt can talk past
 * it): each turn's usage is recorded on the bead and checked against the convoy's budget, and
 * before each turn the agent asks whether to go on. It stops when the budget is spent or the
 * emergency stop is engaged (rig/estop.ts). Each turn of a budgeted convoy also takes a place
 * in the convoy's book of turns in flight (rig/turn-reservations.ts) and gives it back with
 * its usage, so parallel polecats cannot together cross the budget by more than one turn.
 * A runner working against the ledger's remote (its own clone, as an Actions job) publishes
 * each reservation and release there as it writes it (publish-refs.ts, the way claims go
 * out), so jobs in separate clones share the bound too: a lost race undoes the local write,
 * syncs and decides again.
 * After the agent returns, `settle` pushes its work and pauses the bead (budget) or releases
 * it to its polecat (estop).
 */
import { GastownError } from '../../errors.js';
import { convoySpend, pauseBead, recordUsage } from '../../rig/costs.js';
import { estopState } from '../../rig/estop.js';
import { syncRig } from '../../rig/sync-rig.js';
import { endTurn, reserveTurn, type TurnAnswer } from '../../rig/turn-reservations.js';
import { usageSince, zeroUsage } from '../../town/costs.js';
import type { Rig } from '../../rig/rig.js';
import { releaseBead, type Claim, type ClaimedRef } from '../../rig/work.js';
import type { Bead, ModelUsage } from '../../town/types.js';
import { publishRefs, undoRefs } from './publish-refs.js';
import type { TownLinkOptions } from './town-link.js';

/** Lost races in a row before a turn's write gives up (each one means the remote moved: progress elsewhere). */
const REMOTE_ATTEMPTS = 10;

export interface TurnHalt {
  kind: 'budget' | 'estop';
  why: string;
}

export interface TurnGuard {
  /** For the agent, after each model call: this run's usage so far (cumulative). */
  reportUsage(usage: ModelUsage): Promise<void>;
  /** For the agent, before each turn: why it must stop now, or null to go on. */
  halted(): Promise<string | null>;
  /** What stopped the agent, once `halted` said so. */
  readonly halt: TurnHalt | null;
  /** After the agent: its final usage (undefined: an agent without a model, nothing to record; null: unknown). */
  finish(usage: ModelUsage | null | undefined): Promise<void>;
  /** After a halt: the last checkpoint, pushed, and the bead paused or released. */
  settle(work: { collect(message: string): Promise<void>; push(): Promise<void> }): Promise<'paused' | 'released'>;
}

export function turnGuard(opts: {
  rig: Rig;
  claim: Claim;
  bead: Bead;
  agent: string;
  /** Between two looks while other runs' turns keep this one waiting (default 100 ms, growing to 1 s). */
  sleep?: (ms: number) => Promise<void>;
  /** The runner's remote ledger, when it has one: turns are then published there as they are written. */
  sync?: TownLinkOptions['sync'];
}): TurnGuard {
  const { rig, claim, bead } = opts;
  const sync = opts.sync ?? null;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const run = `${bead.revisions ?? 0}.${claim.attempt}`;
  const holder = `${claim.polecat}/${bead.id}/${run}`;
  let halt: TurnHalt | null = null;
  // The turn this run holds in the convoy's book (turn-reservations.ts), and the run's usage when it began.
  let holding = false;
  let reported: ModelUsage | null = null;
  const record = (usage: ModelUsage | null) =>
    recordUsage(rig, bead.id, { run, polecat: claim.polecat, agent: opts.agent, at: rig.at(), usage });
  const budgetHalt = async (): Promise<TurnHalt | null> => {
    const spend = bead.convoy ? await convoySpend(rig, bead.convoy) : null;
    return spend?.spentReason ? { kind: 'budget', why: `${spend.spentReason} (convoy ${spend.convoy.id})` } : null;
  };
  const estopHalt = async (): Promise<TurnHalt | null> =>
    (await estopState(rig)).engaged ? { kind: 'estop', why: 'emergency stop engaged' } : null;
  /** The turn that just ended gives its place back, its cost now known. */
  const release = async (usage: ModelUsage | null | undefined) => {
    if (!holding || !bead.convoy) return;
    holding = false;
    // A turn whose cost is unknown (null: a command agent without a usage parser) cannot be
    // measured: it counts as free, so such runs are not held back (their convoy has no real
    // bound anyway). An agent that ended without a report (undefined: it threw) leaves the
    // measure as it was, so a first turn that failed does not open the convoy to parallel turns.
    const cost = usage === null ? zeroUsage() : usage ? usageSince(usage, reported) : null;
    const convoy = bead.convoy;
    await onRemote(
      async () => ({ answer: null, wrote: await endTurn(rig, convoy, holder, cost, { track: !!sync }) }),
      `the end of turn ${holder}`,
    );
  };
  /**
   * A write of the convoy's book of turns, with the remote as the judge when there is one:
   * written here, pushed there in one leased push (with this clone's sync summary); on a lost
   * race undone here, synced, and written again on the fresh view. Queued with the runner's
   * claims and syncs, so no other write of this clone lands between the write and its push.
   */
  const onRemote = async <T>(step: () => Promise<{ answer: T; wrote: ClaimedRef[] }>, what: string): Promise<T> => {
    if (!sync) return (await step()).answer;
    return sync.queue(async () => {
      for (let attempt = 1; ; attempt++) {
        const { answer, wrote } = await step();
        if ((await publishRefs(rig, sync.remote, wrote, what)) === 'published') return answer;
        if (!(await undoRefs(rig, wrote)))
          throw new GastownError('gastown_conflict', `could not undo ${what} here after the remote refused it: the book moved meanwhile`);
        if (attempt >= REMOTE_ATTEMPTS)
          throw new GastownError('gastown_sync', `gave up publishing ${what}: the remote kept moving (${attempt} attempts)`);
        await syncRig(rig, sync.remote);
      }
    });
  };
  /** Waits for a place among the convoy's turns; a halt when the budget is reached (or the stop pressed) meanwhile. */
  const reserve = async (): Promise<TurnHalt | null> => {
    if (!bead.convoy) return null;
    const convoy = bead.convoy;
    for (let pause = 100; ; pause = Math.min(pause * 2, 1_000)) {
      const answer = await onRemote(async (): Promise<{ answer: TurnAnswer; wrote: ClaimedRef[] }> => {
        const a = await reserveTurn(rig, convoy, { holder, polecat: claim.polecat, bead: bead.id }, { track: !!sync });
        return { answer: a, wrote: a.wrote ?? [] };
      }, `turn ${holder}`);
      if (answer.kind === 'go') {
        holding = true;
        return null;
      }
      // The book may know of spending this clone's beads do not show yet (other clones').
      if (answer.kind === 'spent') return (await budgetHalt()) ?? { kind: 'budget', why: `${answer.why} (convoy ${convoy})` };
      const stopped = await estopHalt();
      if (stopped) return stopped;
      await sleep(pause);
      // The turns that keep this one waiting end in other clones: look at the remote's book again.
      if (sync) await sync.queue(() => syncRig(rig, sync.remote));
    }
  };
  return {
    get halt() {
      return halt;
    },
    async reportUsage(usage) {
      await record(usage);
      await release(usage);
      reported = usage;
      halt ??= await budgetHalt();
    },
    async halted() {
      halt ??= await estopHalt();
      halt ??= await budgetHalt();
      halt ??= await reserve();
      return halt ? `stopped by the runner: ${halt.why}` : null;
    },
    async finish(usage) {
      if (usage !== undefined) await record(usage);
      await release(usage);
    },
    async settle(work) {
      await work.collect(`paused: ${halt!.why}`);
      await work.push();
      if (halt!.kind === 'budget') await pauseBead(rig, claim, halt!.why);
      else await releaseBead(rig, claim, halt!.why);
      return halt!.kind === 'budget' ? 'paused' : 'released';
    },
  };
}
