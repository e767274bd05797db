import type { Bead, BeadStatus, Convoy, ConvoyStatus, FeedEvent, MailMessage } from '../town/types.js';

/**
 * What the Slack layer needs from the rest of the product. Implemented outside `slack/`
 * (over the ledger and the rig); the Slack listeners only call these and render the plain
 * views below, so they never touch git, GitHub or the model.
 *
 * `actor` is always a GitHub login, already resolved from the Slack user and already checked
 * for write access on the target repository by the caller (the listeners). Implementations
 * throw `GastownError` (`gastown_not_found`, `gastown_illegal_transition`, ...) whose message
 * is shown to the person as is.
 */
export interface SlackServices {
  status(repo?: string): Promise<StatusView>;
  convoy(id: string): Promise<ConvoyView>;
  ready(): Promise<Bead[]>;
  /** Latest events, newest last. */
  feed(limit: number): Promise<FeedEvent[]>;
  /** Recent history, newest last. */
  trail(limit: number): Promise<TrailEntry[]>;
  /** Slings a bead to `polecat`, or to a free polecat from the name pool when undefined. */
  sling(bead: string, polecat: string | undefined, actor: string): Promise<SlingView>;
  /** Asks the Mayor to plan `goal` in `repo`; resolves once the convoy is recorded. */
  slingGoal(goal: string, repo: string, actor: string): Promise<Convoy>;
  approve(convoyId: string, actor: string): Promise<Convoy>;
  stop(convoyId: string, actor: string): Promise<Convoy>;
  /** Sets (`$20`) or raises (`+$5`) a convoy's budget; `text` says what it is now (or that the forge was asked). */
  budget(convoyId: string, amount: string, actor: string): Promise<{ text: string }>;
  /**
   * Engages (true) or releases the emergency stop of one repository's town; `cancelled`: the
   * forge's polecat runs cancelled with it (GitHub), absent where runners are local.
   */
  estop(engaged: boolean, repo: string, actor: string): Promise<{ changed: boolean; cancelled?: number }>;
  inbox(agent: string): Promise<MailMessage[]>;
  sendMail(from: string, to: string, text: string): Promise<MailMessage>;
  nudge(from: string, polecat: string, text: string): Promise<MailMessage>;
  /** Takes a bead back from its polecat (if any) and slings it again. */
  resling(bead: string, actor: string): Promise<SlingView>;
  /**
   * The `owner/repo` a bead, convoy or agent belongs to, for permission checks;
   * null when the thing is unknown or belongs to no repository (local mode).
   */
  repoOf(target: RepoTarget): Promise<string | null>;
}

export type RepoTarget = { bead: string } | { convoy: string } | { agent: string };

export interface StatusView {
  /** The repository this view is limited to, or null for the whole town. */
  repo: string | null;
  convoys: ConvoySummary[];
  beads: Record<BeadStatus, number>;
  polecats: PolecatView[];
}

export interface ConvoySummary {
  id: string;
  title: string;
  status: ConvoyStatus;
  closed: number;
  total: number;
  url: string | null;
}

export interface PolecatView {
  name: string;
  bead: string | null;
  state: 'idle' | 'working' | 'stalled';
  /** ISO time of the last heartbeat, when working. */
  lastSeenAt: string | null;
}

export interface ConvoyView {
  convoy: Convoy;
  /** In plan order. */
  beads: Bead[];
  /** Link to the convoy's parent issue or status comment, when mirrored. */
  url: string | null;
}

export interface TrailEntry {
  at: string;
  actor: string;
  /** Short description, e.g. `gt-a1b2 hooked → in_progress`. */
  summary: string;
  bead: string | null;
  convoy: string | null;
  url: string | null;
}

/** A sling as Slack shows it. */
export interface SlingView {
  bead: string;
  polecat: string;
  /** Link to the bead's issue, when mirrored. */
  url: string | null;
}
