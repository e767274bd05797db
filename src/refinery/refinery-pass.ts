import { join } from 'node:path';
import { nukePolecatBranch } from '../polecat/nuke-branch.js';
import { pathsToHide, rigRemote, type RigRemote } from '../polecat/runner/rig-remote.js';
import { requireSandbox } from '../polecat/sandbox/detect-sandbox.js';
import type { Sandbox } from '../polecat/sandbox/sandbox.js';
import { sandboxEnv } from '../polecat/sandbox/sandbox-env.js';
import { allBeads } from '../rig/beads.js';
import type { Rig } from '../rig/rig.js';
import { topoOrder } from '../town/graph.js';
import { NEEDS_HUMAN_LABEL } from '../town/revision.js';
import type { Bead } from '../town/types.js';
import { mergeBranches, type GateSandbox, type MergeBranchesOutcome } from './merge-branch.js';
import { closeMerged, REFINERY_ACTOR, sendBack } from './refinery-ledger.js';
import { rebaseWaiting } from './rebase-waiting.js';

export interface RefineryOptions {
  env: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  remote?: RigRemote;
  /** Default: `<git dir>/gastown/refinery`. */
  workdir?: string;
  gateTimeoutMs?: number;
  /**
   * Where the gate runs: it runs the merged polecat branches' code, so it gets the agents'
   * sandbox (default bubblewrap, required only when the rig has a gate).
   */
  sandbox?: Sandbox;
}

export interface RefineryPassResult {
  merged: string[];
  landed: string[];
  sentBack: string[];
  failed: string[];
  /** Beads whose revision rounds are spent (labelled `gastown:needs-human`): they wait for a person. */
  needsHuman: string[];
  /** Queued beads whose blockers are not closed yet, or that lost a push race. */
  waiting: string[];
  /** Of those, the ones that lost a push race (the default branch moved): worth another pass soon. */
  raced: string[];
  /** Beads waiting for review whose branches no longer merge after this pass: sent back for a rebase round. */
  rebasing: string[];
}

/**
 * Beads the local merge queue holds: in review, pushed, no pull request (no forge); with
 * `review: 'required'` only the approved ones. A bead waiting for a person
 * (`gastown:needs-human`) is left out until someone approves it.
 */
export function refineryQueue(beads: readonly Bead[], review: 'required' | 'off' = 'off'): Bead[] {
  const waiting = (b: Bead) => !b.approvedBy && (review === 'required' || b.labels.includes(NEEDS_HUMAN_LABEL));
  const queued = new Map(beads.filter((b) => b.status === 'in_review' && !b.pr && b.branch && !waiting(b)).map((b) => [b.id, b]));
  // Dependency order over the whole graph; ties by id, so every machine merges alike.
  return topoOrder(beads)
    .filter((id) => queued.has(id))
    .map((id) => queued.get(id)!);
}

/** A pass that did nothing (also what runRefinery adds its passes to). */
export function emptyPassResult(): RefineryPassResult {
  return { merged: [], landed: [], sentBack: [], failed: [], needsHuman: [], waiting: [], raced: [], rebasing: [] };
}

/**
 * One pass of the local merge queue, in dependency order: a bead whose blockers are not
 * closed waits; the others are rebased one onto the next, gated once and pushed to the
 * default branch as one fast-forward, then closed; a bead that conflicts is sent back to
 * its polecat. When the gate fails on a batch, each bead is retried alone, so only the
 * bead that breaks the gate is sent back.
 */
export async function refineryPass(rig: Rig, opts: RefineryOptions): Promise<RefineryPassResult> {
  const log = opts.log ?? (() => {});
  const out = emptyPassResult();
  const beads = await allBeads(rig);
  const queue = refineryQueue(beads, rig.settings.review);
  if (queue.length === 0) return out;
  const remote = opts.remote ?? (await rigRemote(rig));
  const status = new Map(beads.map((b) => [b.id, b.status]));
  const ready: Bead[] = [];
  for (const bead of queue) {
    if (bead.blockedBy.every((b) => status.get(b) === 'closed')) ready.push(bead);
    else out.waiting.push(bead.id);
  }
  if (ready.length === 0) return out;
  const workdir = opts.workdir ?? join(rig.gitDir, 'gastown', 'refinery');
  const gateSandbox = rig.settings.gate ? await gateSandboxFor(rig, opts, remote, `${workdir}-home`) : null;
  const merge = (batch: Bead[]) =>
    mergeBranches({
      repoDir: rig.repoDir,
      workdir,
      gateSandbox,
      remote,
      branches: batch.map((b) => b.branch!),
      gate: rig.settings.gate,
      gateTimeoutMs: opts.gateTimeoutMs ?? rig.settings.agent.timeoutMs,
      log,
    });
  log(`refinery: merging ${ready.map((b) => `${b.id} (${b.branch})`).join(', ')}`);
  const first = await merge(ready);
  // A failed gate on a batch does not say whose change broke it: try each bead alone.
  const rounds = first.gateFailed && ready.length > 1 ? await sequential(ready, merge) : [{ batch: ready, result: first }];
  // One Refinery identity per pass (feed events of one Rig instance get distinct ids).
  const refinery = rig.actor === REFINERY_ACTOR ? rig : rig.withActor(REFINERY_ACTOR);
  for (const { batch, result } of rounds) await settle(refinery, batch, result, out, log, remote.defaultBranch);
  if (out.merged.length) {
    // The default branch moved: beads waiting for review that now conflict get a rebase round.
    const rebasing = await rebaseWaiting(refinery, await allBeads(rig), new Set(queue.map((b) => b.id)), remote);
    for (const id of rebasing) log(`refinery: ${id} no longer merges with ${remote.defaultBranch}: sent back to rebase`);
    out.rebasing.push(...rebasing);
  }
  // Merged branches are nuked after their beads closed (a crash before leaves a branch, never a lost bead).
  const workspaceRoot = join(rig.gitDir, 'gastown', 'workspaces');
  for (const { result } of rounds)
    for (const { branch } of result.raced ? [] : result.merged)
      await nukePolecatBranch(rig.repoDir, remote, branch, { workspaceRoot }).catch((err: unknown) =>
        log(`refinery: could not delete ${branch}: ${(err as Error).message}`),
      );
  return out;
}

async function sequential(
  beads: Bead[],
  merge: (batch: Bead[]) => Promise<MergeBranchesOutcome>,
): Promise<{ batch: Bead[]; result: MergeBranchesOutcome }[]> {
  const rounds: { batch: Bead[]; result: MergeBranchesOutcome }[] = [];
  for (const bead of beads) rounds.push({ batch: [bead], result: await merge([bead]) });
  return rounds;
}

/** Records what one merge did: closes merged beads (landing convoys), sends the others back. */
async function settle(
  rig: Rig,
  batch: Bead[],
  result: MergeBranchesOutcome,
  out: RefineryPassResult,
  log: (l: string) => void,
  target: string,
): Promise<void> {
  const byBranch = new Map(batch.map((b) => [b.branch!, b]));
  if (result.raced) {
    out.waiting.push(...batch.map((b) => b.id));
    out.raced.push(...batch.map((b) => b.id));
    return;
  }
  for (const { branch, sha } of result.merged) {
    const bead = byBranch.get(branch)!;
    const closed = await closeMerged(rig, bead.id, sha);
    if (!closed) continue;
    out.merged.push(bead.id);
    log(`refinery: merged ${bead.id} into ${target} (${sha.slice(0, 7)})`);
    if (closed.landed) {
      out.landed.push(closed.landed.id);
      log(`refinery: convoy ${closed.landed.id} landed`);
    }
  }
  const refused: [Bead, 'conflict' | 'gate' | 'missing', string][] = [
    ...result.conflicts.map((c) => [byBranch.get(c.branch)!, 'conflict', c.output] as [Bead, 'conflict', string]),
    ...result.missing.map((m) => [byBranch.get(m)!, 'missing', `branch ${m} is not on the remote`] as [Bead, 'missing', string]),
  ];
  if (result.gateFailed) {
    const conflicted = new Set([...result.conflicts.map((c) => c.branch), ...result.missing]);
    for (const b of batch) if (!conflicted.has(b.branch!)) refused.push([b, 'gate', result.gateFailed]);
  }
  for (const [bead, reason, output] of refused) {
    const next = await sendBack(rig, bead.id, reason, output);
    const verdict = !next
      ? 'left alone'
      : next.status === 'failed'
        ? 'failed'
        : next.status === 'in_review'
          ? 'needs a person'
          : 'sent back';
    if (next?.status === 'failed') out.failed.push(bead.id);
    else if (next?.status === 'in_review') out.needsHuman.push(bead.id);
    else if (next) out.sentBack.push(bead.id);
    log(`refinery: ${bead.id} ${verdict} (${reason})`);
  }
}

/** The gate's sandbox: the rig's sandbox settings, a HOME of its own (emptied for each run), GASTOWN_GATE=1. */
async function gateSandboxFor(rig: Rig, opts: RefineryOptions, remote: RigRemote, home: string): Promise<GateSandbox> {
  const settings = rig.settings.sandbox;
  return {
    // Only bubblewrap: the user sandbox runs commands only in polecat workspaces, not this worktree.
    sandbox: opts.sandbox ?? (await requireSandbox(opts.env, 'bwrap')),
    spec: {
      home,
      env: sandboxEnv({ source: opts.env, allow: settings.env, home, extra: { GASTOWN_GATE: '1' } }),
      network: settings.network,
      readOnly: settings.readOnly,
      hide: await pathsToHide(rig, remote, opts.env),
    },
  };
}
