/**
 * What the dispatch and advance flows need from the rig service (flows 2 and 4), as a small
 * interface: `ledger-plan-deps.ts` implements it over a repository's ledger mirror, tests
 * of the plan flow alone use a no-op.
 */
import type { Bead, Convoy } from '../town/types.js';
import type { RecordedConvoy } from './plan-issue-deps.js';

/** A hooked bead whose current sling has no workflow run yet. */
export interface PendingDispatch {
  bead: Bead;
  polecat: string;
  /** Identifies this sling (polecat and time): recorded on the bead once its run is dispatched. */
  key: string;
}

export interface MergeOutcome {
  bead: Bead;
  /** False when the bead was already closed (a redelivered event). */
  changed: boolean;
  convoy: Convoy | null;
  landed: boolean;
  newlyReady: Bead[];
}

export interface DispatchOptions {
  /** Runners known to be gone (a finished polecat run, `gha-<run id>`): their beads are stalled at once. */
  deadRunners?: readonly string[];
  /**
   * A polecat run that is over, with the bead its title names: if that bead is still only
   * hooked under the sling the run was dispatched for, the run died before its claim
   * reached this ledger, and the bead is slung anew.
   */
  endedRun?: { id: number; bead: string; createdAt: string };
}

export interface WorkDeps {
  /**
   * Slings ready beads of convoys that are approved and fully on GitHub, up to `cap` beads in
   * flight, then returns every hooked bead of such convoys not yet dispatched (including
   * ones slung earlier whose dispatch was interrupted).
   */
  pendingDispatch(cap: number, opts?: DispatchOptions): Promise<PendingDispatch[]>;
  /**
   * Pushes the ledger to the repository now. A workflow run dispatched next fetches the
   * ledger at once: it must find its bead hooked and linked to its issue, not the ledger as
   * it was before this delivery.
   */
  publish(): Promise<void>;
  /** Records on the bead that this sling's run was dispatched. Idempotent. */
  markDispatched(pending: PendingDispatch): Promise<void>;
  findBead(id: string): Promise<Bead | null>;
  findConvoyById(id: string): Promise<RecordedConvoy | null>;
  /** The bead's PR was merged: closed, convoy landed when it was the last. Idempotent. */
  recordMerged(beadId: string, url: string): Promise<MergeOutcome>;
  /** Beads blocked by `beadId` whose blockers are all closed now (and that are not closed themselves). */
  readyDependents(beadId: string): Promise<Bead[]>;
  /** Adds `label` to the bead (a note of what GitHub already shows). Idempotent. */
  markMirrored(beadId: string, label: string): Promise<void>;
  /** The bead's PR was closed unmerged: open again. Idempotent. */
  recordRejected(beadId: string): Promise<Bead>;
  /** Stops a convoy: nothing more is slung, work in flight is unslung. Idempotent. */
  stopConvoy(convoyId: string): Promise<RecordedConvoy>;
}

/** For flows tested without a ledger: nothing to dispatch. */
export const noWork: WorkDeps = {
  pendingDispatch: async () => [],
  publish: async () => undefined,
  markDispatched: async () => undefined,
  findBead: async () => null,
  findConvoyById: async () => null,
  recordMerged: async (id) => {
    throw new Error(`no work service (recordMerged ${id})`);
  },
  readyDependents: async () => [],
  markMirrored: async () => undefined,
  recordRejected: async (id) => {
    throw new Error(`no work service (recordRejected ${id})`);
  },
  stopConvoy: async (id) => {
    throw new Error(`no work service (stopConvoy ${id})`);
  },
};
