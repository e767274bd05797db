/**
 * The town's vocabulary. Plain JSON-serialisable records: the ledger stores exactly these
 * objects, so every field must survive JSON.stringify/parse and a field-level 3-way merge
 * (arrays of strings merge as sets; anything else is replaced whole).
 */

export const BEAD_STATUSES = ['open', 'hooked', 'in_progress', 'in_review', 'closed', 'failed'] as const;
export type BeadStatus = (typeof BEAD_STATUSES)[number];

/** A forge object a bead or convoy is mirrored to (a GitHub issue or pull request). */
export interface ForgeLink {
  number: number;
  /** GitHub's numeric database id (sub-issues and dependencies take this, not the number). */
  id?: number;
  url: string;
}

export interface Bead {
  id: string;
  title: string;
  body: string;
  status: BeadStatus;
  /** 0 (most urgent) to 4. */
  priority: number;
  labels: string[];
  /** `blocks` edges: ids of beads that must be closed before this one is ready. */
  blockedBy: string[];
  /** Organisational parent bead (does not gate readiness). */
  parent: string | null;
  convoy: string | null;
  /** The key the Mayor's plan gave this bead, when it came from a plan. */
  key: string | null;
  acceptance: string[];
  files: string[];
  /** The polecat this bead is slung to, while hooked, in progress or in review. */
  assignee: string | null;
  /** Branch the polecat works on, once started. */
  branch: string | null;
  issue: ForgeLink | null;
  pr: ForgeLink | null;
  /** How many times a polecat has started on this bead (for retry caps). */
  attempts: number;
  closeReason: string | null;
  createdAt: string;
  updatedAt: string;
  /**
   * Derived: the ids of the beads whose `blockedBy` names this one (sorted), kept by the rig
   * in the same transactions that change edges (rig/dependents.ts). Absent on beads written
   * before the index existed; may list a bead that no longer waits on this one.
   */
  dependents?: string[];
  /** Revision rounds counted against the rig's `maxRevisions` (reviews, CI, gate failures; town/revision.ts). */
  revisions?: number;
  /** Who approved the bead's branch for the Refinery (rigs with `review: required`); cleared by a new round. */
  approvedBy?: string | null;
  /** Sent back while its polecat held other work: slung to that polecat again once it is free. */
  revisionPending?: boolean;
  /** Idempotency keys of the revision requests recorded on this bead (a webhook's review or comment id). */
  revisionKeys?: string[];
  /** What each agent run on this bead cost, one record per run (town/costs.ts). */
  usage?: UsageRecord[];
  /**
   * Why a hooked bead waits instead of being claimed: `budget` when its convoy's budget ran
   * out (cleared when a person raises it). The polecat keeps its hook and its pushed branch.
   */
  paused?: 'budget' | null;
  /**
   * The branch of a pull request closed unmerged, and its tip: kept while the bead waits to be
   * slung again; the next run starts afresh from the default branch and replaces it (same
   * polecat: a push with a lease on `tip`) or has it deleted (another polecat, or the bead
   * merged from another branch). Cleared when a run finishes.
   */
  rejected?: { branch: string; tip: string | null } | null;
}

/** One agent run's usage on a bead; `usage` null when the agent did not say (a command agent without a parser). */
export interface UsageRecord {
  /** `<revision round>.<attempt>`: unique per run of a bead, so a re-report replaces, never adds. */
  run: string;
  polecat: string;
  agent: string;
  /** When the run last reported (ISO). */
  at: string;
  usage: ModelUsage | null;
}

/** A convoy's spending limit, in dollars, tokens (input + output + cache), or both. */
export interface Budget {
  usd?: number;
  tokens?: number;
}

export const CONVOY_STATUSES = ['awaiting_approval', 'active', 'landed', 'failed', 'stopped'] as const;
export type ConvoyStatus = (typeof CONVOY_STATUSES)[number];

export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
}

export interface ConvoySource {
  kind: 'github' | 'local' | 'slack';
  /** `owner/repo` for GitHub sources. */
  repo?: string;
  issue?: ForgeLink;
  goal?: string;
  requestedBy?: string;
}

export interface Convoy {
  id: string;
  title: string;
  beads: string[];
  status: ConvoyStatus;
  approved: boolean;
  approvedBy: string | null;
  source: ConvoySource | null;
  planner: 'model' | 'checklist' | 'manual';
  usage: ModelUsage | null;
  /**
   * Records surfaces keep on the convoy (GitHub's status comment id, Slack's thread), each
   * under a key its surface owns (`github.statusComment`, `slack.thread`); the town reads none.
   * Convoys written before this held `statusCommentId` and `slackThreadTs` fields, which those
   * surfaces still read.
   */
  marks?: Record<string, string | number>;
  createdAt: string;
  updatedAt: string;
  landedAt: string | null;
  /** When every bead got its forge mirror (child issue and edges); dispatch waits for it on GitHub. */
  materialisedAt?: string | null;
  /** The last planning or materialising failure, cleared once it succeeds. */
  lastError?: { code: string; message: string; at: string } | null;
  /** Which source a convoy came from, for idempotent planning (`github:owner/repo#12`). */
  sourceKey?: string | null;
  /** What the convoy's agents may spend; checked by the runner before every turn (town/costs.ts). */
  budget?: Budget | null;
  /** Why the budget is less than the plan asked for (clamped to the repository's maximum); absent otherwise. */
  budgetNote?: string | null;
  /** Keys of the re-plans applied to this convoy (`comment:<id>`), so a redelivery re-plans once (rig/replan-convoy.ts). */
  replans?: string[];
  /** Beads a re-plan cancelled before they started: closed, and no longer in `beads`. */
  cancelled?: string[];
  /**
   * What each re-plan that changed something did, by its key, written in the same
   * transaction: a redelivery after a crash between the ledger and the forge finishes the
   * forge's side from it (rig/replan-convoy.ts).
   */
  replanLog?: Record<string, ReplanRecord>;
}

/** The beads one re-plan added, changed, cancelled, and left alone because they had started. */
export interface ReplanRecord {
  added: string[];
  changed: string[];
  cancelled: string[];
  fixed: string[];
}

export type AgentRole = 'polecat' | 'mayor' | 'deacon' | 'refinery' | 'person';

export interface Agent {
  name: string;
  role: AgentRole;
  email: string;
  createdAt: string;
  beadsDone: number;
  beadsFailed: number;
}

/** What is on an agent's hook: at most one bead at a time. */
export interface Hook {
  agent: string;
  bead: string | null;
  slungAt: string | null;
  slungBy: string | null;
}

/** A runner's liveness for the bead it works on; replaced, not appended, on each beat. */
export interface Heartbeat {
  agent: string;
  bead: string;
  runner: string;
  at: string;
}

export type MailKind = 'mail' | 'nudge';

export interface MailMessage {
  id: string;
  kind: MailKind;
  from: string;
  to: string;
  subject: string;
  body: string;
  /** Machine-readable type, e.g. POLECAT_DONE, MERGE_FAILED. */
  type: string | null;
  bead: string | null;
  createdAt: string;
}

/** Marks a mail message read; lives on the same chain as the messages. */
export interface MailReadMark {
  readId: string;
  at: string;
}

export const FEED_EVENT_TYPES = [
  'convoy_planned',
  'convoy_approved',
  'convoy_landed',
  'convoy_failed',
  'convoy_stopped',
  'bead_created',
  'bead_updated',
  'bead_slung',
  'bead_unslung',
  'bead_started',
  'bead_closed',
  'bead_reopened',
  'bead_failed',
  'pr_opened',
  'merged',
  'merge_failed',
  'stalled',
  'mail_sent',
  'nudge_sent',
  'bead_paused',
  'budget_raised',
  'estop_engaged',
  'estop_released',
] as const;
export type FeedEventType = (typeof FEED_EVENT_TYPES)[number];

export interface FeedEvent {
  id: string;
  type: FeedEventType;
  at: string;
  actor: string;
  bead: string | null;
  convoy: string | null;
  message: string;
  url: string | null;
}

/** One unit of work in a Mayor's plan, before it becomes a bead. */
export interface PlanBead {
  /** A name local to the plan (`auth-api`), used by `blockedBy`. */
  key: string;
  title: string;
  description: string;
  acceptance: string[];
  files: string[];
  /** Keys of other beads in the same plan. */
  blockedBy: string[];
}

export interface Plan {
  summary: string;
  beads: PlanBead[];
  /** What the Mayor thinks the convoy's agents need; capped by the repository's maximum (town/costs.ts plannedBudget). */
  budget?: Budget;
}

/** What a caller supplies to create a bead; everything else starts at its default. */
export interface NewBeadInput {
  title: string;
  body?: string;
  priority?: number;
  labels?: string[];
  blockedBy?: string[];
  parent?: string | null;
  convoy?: string | null;
  key?: string | null;
  acceptance?: string[];
  files?: string[];
}

/** The fields a person may edit directly; status changes go through transitionBead. */
export interface BeadPatch {
  title?: string;
  body?: string;
  priority?: number;
  /** Replaces the labels; addLabels and removeLabels then apply on top. */
  labels?: string[];
  addLabels?: string[];
  removeLabels?: string[];
}

export interface ConvoyProgress {
  total: number;
  closed: number;
  failed: number;
  byStatus: Record<BeadStatus, number>;
  /** 0 to 100, rounded down so 100 means done. */
  percent: number;
  /** Every bead of the convoy is closed (false for a convoy with no beads). */
  done: boolean;
}
