/**
 * The forge port: everything the services need from a code host, and nothing more
 * (renovate's `Platform` idea). Two adapters: GitHub over a per-installation Octokit
 * (`github-forge.ts`) and the local null object (`local-forge.ts`).
 *
 * Every mutation is an idempotent `ensure*`: webhooks are redelivered and processes crash
 * between two calls, so calling a method twice with the same input leaves the forge as one
 * call would. Methods that create something return `null` when the forge has no such object
 * (local mode).
 */
import type { Bead, ForgeLink } from '../town/types.js';

export type { ForgeLink };

export interface OpenPullRequestInput {
  /** Branch with the work, e.g. `polecat/nux/gt-1a2b`. */
  head: string;
  base: string;
  title: string;
  body: string;
  draft: boolean;
}

export interface ChildIssueInput {
  bead: Bead;
  /** Labels the issue gets when it is created. */
  labels: string[];
}

export interface BlockedByEdge {
  child: ForgeLink;
  blocker: ForgeLink;
}

export interface DispatchWorkflowInput {
  /** Workflow file name (`gastown-polecat.yml`) or numeric id. */
  workflow: string | number;
  ref: string;
  inputs: Record<string, string>;
}

/** A workflow run as the forge lists it. */
export interface WorkflowRunSummary {
  id: number;
  /** The run's title (`run-name`): `gastown-polecat <bead>` for a polecat run. */
  title: string;
  createdAt: string;
}

/** One inline comment of a pull request review. */
export interface ReviewComment {
  path: string;
  /** The line in the new version of the file, or null when GitHub no longer places it (outdated). */
  line: number | null;
  body: string;
  author: string;
}

export interface ForgePort {
  /**
   * Pull requests are reviewed and merged on the forge (GitHub). False for the local null
   * adapter, whose rig merges through the Refinery instead. A capability, not a kind:
   * callers never ask which forge this is.
   */
  readonly hostsPullRequests: boolean;

  /**
   * Tells the adapter what this delivery already knows about an issue, so it need not ask
   * again: `children: 'none'` for a parent whose convoy was recorded by this very delivery
   * (it cannot have sub-issues yet), `comments` from a listing already made. Optional.
   */
  prime?(issueNumber: number, known: { children?: 'none'; comments?: { id: number; body?: string | null }[] }): void;

  /**
   * The issues mirroring the beads, each a sub-issue of `parent`, created where missing (in
   * as few requests as the forge allows). Each is found, in order, by `bead.issue` (the link
   * recorded in the ledger) or by the hidden marker `<!-- gastown:bead <id> -->` among the
   * parent's sub-issues; an existing issue is reused as it is (people may have edited it)
   * and made a sub-issue of `parent` if it is not one. `labels` are applied only on
   * creation. `recordLink` is called for each issue found or created as soon as it is known,
   * before the next write, so a failure or a crash later costs nothing twice. Returns the
   * links in `items` order; an empty array when the forge has no issues (local mode).
   */
  ensureChildIssues(
    parent: ForgeLink,
    items: ChildIssueInput[],
    recordLink: (beadId: string, link: ForgeLink) => Promise<void>,
  ): Promise<ForgeLink[]>;

  /** Each edge's `child` is blocked by its `blocker` (the forge's native dependency). Idempotent. */
  ensureBlockedBy(edges: BlockedByEdge[]): Promise<void>;

  /**
   * Each edge's `child` is no longer blocked by its `blocker` (a re-plan dropped the edge).
   * Idempotent: an edge that is not there is left alone, without a write.
   */
  removeBlockedBy(edges: BlockedByEdge[]): Promise<void>;

  /** The issue has this title and body (a re-planned bead): edited only when either differs. */
  ensureIssueText(issueNumber: number, text: { title: string; body: string }): Promise<void>;

  /**
   * The one status comment on the parent, whose body must start with a hidden marker
   * (`<!-- gastown:convoy cv-xxxx -->`). Found by `knownCommentId` or by that marker; edited
   * only when its body differs; created when missing. Returns the comment id.
   */
  ensureStatusComment(parentIssueNumber: number, markdown: string, knownCommentId?: number | null): Promise<number | null>;

  /** Adds and removes labels; adding a present label or removing an absent one is a no-op. */
  setLabels(issueNumber: number, change: { add?: string[]; remove?: string[] }): Promise<void>;

  /** Posts a new comment (not idempotent: use for replies to a person's command). */
  comment(issueNumber: number, body: string): Promise<number | null>;

  /**
   * The inline comments of one review of a pull request (file, line, text, author), oldest
   * first. Optional: a forge without reviews has none.
   */
  reviewComments?(pullNumber: number, reviewId: number): Promise<ReviewComment[]>;

  /** Closes the issue; closing a closed issue is a no-op. */
  closeIssue(issueNumber: number, reason?: 'completed' | 'not_planned'): Promise<void>;

  /**
   * Deletes a merged polecat branch (nuke). Idempotent: a branch already gone is not an
   * error. Optional: a forge without branches of its own (local) leaves it to the Refinery.
   */
  deleteBranch?(branch: string): Promise<void>;

  /** The open pull request from `head`, created if there is none. */
  openPullRequest(input: OpenPullRequestInput): Promise<ForgeLink | null>;

  /**
   * Starts a workflow run (`workflow_dispatch`). Not idempotent on the forge side: callers
   * record the dispatch in the ledger first and the runner's claim (compare-and-swap) makes a
   * duplicate run harmless.
   */
  dispatchWorkflow(input: DispatchWorkflowInput): Promise<void>;

  /**
   * The workflow's runs created at `since` or later (any status), newest first. How a
   * dispatcher that stopped between its mark and its call is told apart from one whose call
   * got through. Optional: a forge without workflow runs has none.
   */
  workflowRunsSince?(workflow: string, since: string): Promise<WorkflowRunSummary[]>;

  /**
   * The emergency stop: cancels the workflow's queued and in-progress runs and returns their
   * ids. Idempotent: a run that completed meanwhile is not an error. Optional: a forge
   * without workflow runs has nothing to cancel.
   */
  cancelWorkflowRuns?(workflow: string): Promise<number[]>;
}
