/**
 * The runner's hand on an agent between turns, outside the model (so no prompt can talk past
 * it): each turn's usage is recorded on the bead and checked against the convoy's budget, and
 * before each turn the agent asks whether to go on. It stops when the budget is spent or the
 * emergency stop is engaged (rig/estop.ts). Checked before every turn, a budget is exceeded
 * by at most the one turn that crossed it (per polecat working the convoy at that moment).
 * After the agent returns, `settle` pushes its work and pauses the bead (budget) or releases
 * it to its polecat (estop).
 */
import { convoySpend, pauseBead, recordUsage } from '../../rig/costs.js';
import { estopState } from '../../rig/estop.js';
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

export function turnGuard(opts: { rig: Rig; claim: Claim; bead: Bead; agent: string }): TurnGuard {
  const { rig, claim, bead } = opts;
  const run = `${bead.revisions ?? 0}.${claim.attempt}`;
  let halt: TurnHalt | null = null;
  const record = (usage: ModelUsage | null) =>
    recordUsage(rig, bead.id, { run, polecat: claim.polecat, agent: opts.agent, at: rig.at(), usage });
  const budgetHalt = async (): Promise<TurnHalt | null> => {
    const spend = bead.convoy ? await convoySpend(rig, bead.convoy) : null;
    return spend?.spentReason ? { kind: 'budget', why: `${spend.spentReason} (convoy ${spend.convoy.id})` } : null;
  };
  return {
    get halt() {
      return halt;
    },
    async reportUsage(usage) {
      await record(usage);
      halt ??= await budgetHalt();
    },
    async halted() {
      if ((await estopState(rig)).engaged) halt ??= { kind: 'estop', why: 'emergency stop engaged' };
      halt ??= await budgetHalt();
      return halt ? `stopped by the runner: ${halt.why}` : null;
    },
    async finish(usage) {
      if (usage !== undefined) await record(usage);
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
