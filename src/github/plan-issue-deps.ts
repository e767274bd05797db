/**
 * What the GitHub side needs from the services, as small interfaces so the handlers can be
 * wired to the Mayor (src/mayor/plan-goal.ts) and the ledger-backed rig service with a few
 * lines, and tested with in-memory fakes.
 */
import type { Bead, Convoy, ConvoySource, ForgeLink, ModelUsage, Plan } from '../town/types.js';

/** The parent issue a convoy was planned from: the key that makes planning idempotent. */
export interface ParentIssueKey {
  /** `owner/repo`. */
  repo: string;
  issueNumber: number;
}

/** Everything the Mayor sees. All text is already stripped of hidden content. */
export interface MayorInput {
  repo: string;
  goal: { title: string; body: string; url: string };
  /** Human comments on the issue, oldest first (bots and our own comments left out). */
  comments: { author: string; body: string }[];
  /** Top-level entries of the default branch; directories end with `/`. */
  tree: string[];
  /** Excerpts of README, AGENTS.md, CONTRIBUTING. */
  docs: { path: string; excerpt: string }[];
  planner: 'model' | 'checklist';
  model: string;
  maxBeads: number;
}

export interface MayorResult {
  plan: Plan;
  planner: Convoy['planner'];
  usage: ModelUsage | null;
}

/** The real one wraps `planGoal(...)`; it throws GastownError('gastown_model' | 'gastown_plan_invalid'). */
export interface Mayor {
  plan(input: MayorInput): Promise<MayorResult>;
}

export interface RecordPlanInput {
  key: ParentIssueKey;
  title: string;
  source: ConvoySource;
  plan: Plan;
  planner: Convoy['planner'];
  usage: ModelUsage | null;
  /** The convoy starts in `awaiting_approval` when true. */
  requireApproval: boolean;
}

/** A convoy and its beads as the ledger holds them (beads in `convoy.beads` order). */
export interface RecordedConvoy {
  convoy: Convoy;
  beads: Bead[];
}

export interface PlanFailure {
  key: ParentIssueKey;
  /** Null when the failure came before the plan was recorded. */
  convoyId: string | null;
  code: string;
  message: string;
  at: string;
}

export interface PlanIssueDeps {
  mayor: Mayor;
  /** The convoy already recorded for this parent issue, or null. Read-only. */
  findConvoy(key: ParentIssueKey): Promise<RecordedConvoy | null>;
  /**
   * Records the convoy and its beads in the ledger, before anything is written to GitHub.
   * Idempotent: the same key returns the convoy already recorded (with any links recorded
   * since) instead of a second one.
   */
  recordPlan(input: RecordPlanInput): Promise<RecordedConvoy>;
  /** Records that `beadId` is mirrored by `link` (its child issue). Idempotent. */
  recordLink(beadId: string, link: ForgeLink): Promise<void>;
  /** Records the id of the convoy's status comment. Idempotent. */
  recordStatusComment(convoyId: string, commentId: number): Promise<void>;
  /** Marks the convoy approved by `login` (active). Approving twice is a no-op. */
  approve(convoyId: string, login: string): Promise<RecordedConvoy>;
  /** Every bead has its child issue and edges: dispatch may start; clears a recorded failure. */
  markMaterialised(convoyId: string): Promise<void>;
  /** Records a failed attempt (the feed and the trail show it). */
  recordFailure(failure: PlanFailure): Promise<void>;
  clock(): Date;
}
