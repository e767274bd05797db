import type { ModelUsage } from '../../town/types.js';
import type { RunProcessResult } from '../run-process.js';

/** One bead, as an agent sees it. `prompt` is the full instruction text (see beadPrompt). */
export interface AgentTask {
  beadId: string;
  title: string;
  body: string;
  acceptance: string[];
  files: string[];
  prompt: string;
  /** The polecat's own clone (see workspace.ts). In-process tools must stay inside it. */
  workspace: string;
  /** Where the runner appends messages that arrive while the agent works (agents that do not hear between turns). */
  inboxFile?: string;
}

export interface ExecOptions {
  /** Written to stdin, which is then closed. Without it stdin is /dev/null. */
  stdin?: string;
  timeoutMs?: number;
  /** Keep at most this many bytes of combined output (the tail). */
  outputCapBytes?: number;
}

export interface InboxMessage {
  from: string;
  subject: string;
  body: string;
  kind: 'mail' | 'nudge';
}

/** What the runner lends an agent: the agent never talks to git remotes or the ledger itself. */
export interface AgentContext {
  /**
   * Runs a command in the polecat's sandbox (cwd the workspace, the environment the rig's
   * allow-list gives, killed with its children on timeout or abort). Every process an agent
   * starts goes through here; agents never spawn processes themselves.
   */
  exec(argv: string[], opts?: ExecOptions): Promise<RunProcessResult>;
  /** Commit (and push) work so far; the runner decides what that means. */
  checkpoint(message: string): Promise<void>;
  /** Unread mail and nudges for this polecat, marked read once returned. */
  readInbox(): Promise<InboxMessage[]>;
  signal: AbortSignal;
  log(line: string): void;
  /**
   * Asked before each turn (each model call; a command agent's one run): a reason to stop
   * now (the convoy's budget is spent, the emergency stop), or null. The agent then returns
   * at once; the runner pushes its work (runner/budget-check.ts).
   */
  halted?(): Promise<string | null>;
  /** After each model call: this run's usage so far (cumulative), recorded on the bead and checked against the budget. */
  reportUsage?(usage: ModelUsage): Promise<void>;
}

export interface AgentResult {
  ok: boolean;
  summary: string;
  /**
   * A failure no retry can fix (the agent command is not installed, the bead has nothing
   * for this agent to run): the bead fails at once, and `summary` says what to fix.
   */
  permanent?: boolean;
  usage?: ModelUsage | null;
}

export interface PolecatAgent {
  readonly kind: string;
  /**
   * True when the agent reads its inbox itself between turns (ctx.readInbox). Otherwise the
   * runner appends nudges and mail that arrive while it works to a file the prompt names.
   */
  readonly hearsBetweenTurns?: boolean;
  /**
   * True when some of the agent's tools run in the runner's own process (the built-in agent's
   * file tools), kept to the workspace by path checks rather than by the sandbox.
   */
  readonly toolsInRunner?: boolean;
  run(task: AgentTask, ctx: AgentContext): Promise<AgentResult>;
}
