/**
 * The runner's hand on an agent between turns, outside the model (so no prompt can talk past
 * it): each turn's usage is recorded on the bead and checked against the convoy's budget, and
 * before each turn the agent asks whether to go on. It stops when the budget is spent or the
 * emergency stop is engaged (rig/estop.ts). Each turn of a budgeted convoy also takes a place
 * in the convoy's book of turns in flight (rig/turn-reservations.ts) and gives it back with
 * its usage, so parallel polecats cannot together cross the budget by more than one turn.
 * After the agent returns, `settle` pushes its work and pauses the bead (budget) or releases
 * it to its polecat (estop).
 */
import { convoySpend, pauseBead, recordUsage } from '../../rig/costs.js';
import { estopState } from '../../rig/estop.js';
import { endTurn, reserveTurn } from '../../rig/turn-reservations.js';
import { usageSince, zeroUsage } from '../../town/costs.js';
import type { Rig } from '../../rig/rig.js';
import { releaseBead, type Claim } from '../../rig/work.js';
import type { Bead, ModelUsage } from '../../town/types.js';

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
}): TurnGuard {
  const { rig, claim, bead } = opts;
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
    await endTurn(rig, bead.convoy, holder, cost);
  };
  /** Waits for a place among the convoy's turns; a halt when the budget is reached (or the stop pressed) meanwhile. */
  const reserve = async (): Promise<TurnHalt | null> => {
    if (!bead.convoy) return null;
    for (let pause = 100; ; pause = Math.min(pause * 2, 1_000)) {
      const answer = await reserveTurn(rig, bead.convoy, { holder, polecat: claim.polecat, bead: bead.id });
      if (answer.kind === 'go') {
        holding = true;
        return null;
      }
      if (answer.kind === 'spent') return budgetHalt();
      const stopped = await estopHalt();
      if (stopped) return stopped;
      await sleep(pause);
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
