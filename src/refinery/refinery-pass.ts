import { join } from 'node:path';
import { rigRemote, type RigRemote } from '../polecat/runner/rig-remote.js';
import { allBeads } from '../rig/beads.js';
import type { Rig } from '../rig/rig.js';
import { topoOrder } from '../town/graph.js';
import type { Bead } from '../town/types.js';
import { mergeBranch } from './merge-branch.js';
import { closeMerged, sendBack } from './refinery-ledger.js';

export interface RefineryOptions {
  env: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  remote?: RigRemote;
  /** Default: `<git dir>/gastown/refinery`. */
  workdir?: string;
  gateTimeoutMs?: number;
}

export interface RefineryPassResult {
  merged: string[];
  landed: string[];
  sentBack: string[];
  failed: string[];
  /** Queued beads whose blockers are not closed yet, or that lost a push race. */
  waiting: string[];
}

/** Beads the local merge queue holds: in review, pushed, no pull request (no forge). */
export function refineryQueue(beads: readonly Bead[]): Bead[] {
  const queued = new Map(beads.filter((b) => b.status === 'in_review' && !b.pr && b.branch).map((b) => [b.id, b]));
  // Dependency order over the whole graph; ties by id, so every machine merges alike.
  return topoOrder(beads).filter((id) => queued.has(id)).map((id) => queued.get(id)!);
}

/**
 * One pass of the local merge queue, in dependency order: a bead whose blockers are not
 * closed waits; the others are rebased, gated, pushed to the default branch and closed, or
 * sent back to their polecat. Merges run one at a time: each rebases onto the last.
 */
export async function refineryPass(rig: Rig, opts: RefineryOptions): Promise<RefineryPassResult> {
  const log = opts.log ?? (() => {});
  const out: RefineryPassResult = { merged: [], landed: [], sentBack: [], failed: [], waiting: [] };
  const beads = await allBeads(rig);
  const queue = refineryQueue(beads);
  if (queue.length === 0) return out;
  const remote = opts.remote ?? (await rigRemote(rig));
  const status = new Map(beads.map((b) => [b.id, b.status]));
  for (const bead of queue) {
    if (!bead.blockedBy.every((b) => status.get(b) === 'closed')) {
      out.waiting.push(bead.id);
      continue;
    }
    log(`refinery: merging ${bead.id} (${bead.branch})`);
    const result = await mergeBranch({
      repoDir: rig.repoDir,
      workdir: opts.workdir ?? join(rig.gitDir, 'gastown', 'refinery'),
      remote,
      branch: bead.branch!,
      gate: rig.settings.gate,
      gateTimeoutMs: opts.gateTimeoutMs ?? rig.settings.agent.timeoutMs,
      env: opts.env,
      log,
    });
    if (result.ok) {
      const closed = await closeMerged(rig, bead.id, result.sha);
      if (!closed) continue;
      status.set(bead.id, 'closed');
      out.merged.push(bead.id);
      log(`refinery: merged ${bead.id} into ${remote.defaultBranch} (${result.sha.slice(0, 7)})`);
      if (closed.landed) {
        out.landed.push(closed.landed.id);
        log(`refinery: convoy ${closed.landed.id} landed`);
      }
    } else if (result.reason === 'raced') {
      out.waiting.push(bead.id);
    } else {
      const next = await sendBack(rig, bead.id, result.reason, result.output);
      if (next?.status === 'failed') out.failed.push(bead.id);
      else if (next) out.sentBack.push(bead.id);
      log(`refinery: ${bead.id} ${next?.status === 'failed' ? 'failed' : 'sent back'} (${result.reason})`);
    }
  }
  return out;
}
