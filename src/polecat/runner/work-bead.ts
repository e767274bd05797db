import { GastownError } from '../../errors.js';
import type { ForgePort } from '../../forge/forge-port.js';
import { inbox, takeUnread } from '../../rig/mail.js';
import type { Rig } from '../../rig/rig.js';
import { failBead, finishBead, firstLine, isLeaseLost, releaseBead, type Claim } from '../../rig/work.js';
import { polecatEmail } from '../../town/names.js';
import { beadMarker, parseReviewMarker, polecatBranch, polecatTrailers, rebasedMarker, revisionMarker } from '../../town/ids.js';
import { REVISION_MAIL } from '../../town/revision.js';
import type { Agent, Bead, Convoy, MailMessage } from '../../town/types.js';
import type { AgentContext, AgentResult, PolecatAgent } from '../agents/agent.js';
import { checkpoint, pushPolecatBranch } from '../checkpoint.js';
import type { GitIdentity } from '../git-identity.js';
import { sanitizeUntrustedText } from '../../mayor/sanitize.js';
import { beadPrompt } from '../prompt.js';
import { runGitText } from '../../ledger/run-git.js';
import { runInSandbox, type Sandbox, type SandboxSpec } from '../sandbox/sandbox.js';
import { sandboxEnv } from '../sandbox/sandbox-env.js';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createWorkspace, removeWorkspace, type PolecatWorkspace } from '../workspace.js';
import {
  conflictNote,
  isConflictFeedback,
  pushWithLease,
  rebaseOntoDefault,
  seedWorkspace,
  touchedBeyondConflicts,
  unresolved,
  type RebasePlan,
} from './rebase-round.js';
import { turnGuard } from './budget-check.js';
import { readRefState, refsMovedByAgent } from './ref-tripwire.js';
import { shouldStop, type StopCheck, type StopVerdict } from './stop-check.js';
import { startTownLink, type TownLinkOptions } from './town-link.js';
import { fetchBranches, refSha, retryOnGitLock, type RigRemote } from './rig-remote.js';

export interface WorkBeadOptions {
  rig: Rig;
  claim: Claim;
  agent: PolecatAgent;
  remote: RigRemote;
  /** Where the agent's processes (and the workspace's git) run. */
  sandbox: Sandbox;
  /** Where the variables the rig's `sandbox.env` allows are read from (the runner's environment). */
  env: Record<string, string | undefined>;
  /** Host paths the sandbox must not show (the rig, a local remote, the runner's HOME). */
  hide: string[];
  hooksDir: string;
  workspaceRoot: string;
  forge: ForgePort | null;
  draft: boolean;
  /** Stops the agent: the bead is released for another runner. */
  signal: AbortSignal;
  log: (text: string) => void;
  /** Keep the workspace afterwards (tests and debugging). */
  keepWorkspace?: boolean;
  /** The ledger's remote and its sync cadence while the agent works (town-link.ts); null: no sync. */
  sync?: TownLinkOptions['sync'];
  /** Default shouldStop (stop-check.ts). */
  stopCheck?: StopCheck;
  /** How long a stopping agent gets to reach its next checkpoint before it is stopped anyway. Default 10 s. */
  stopGraceMs?: number;
}

export type WorkOutcome = 'in_review' | 'retry' | 'failed' | 'lost' | 'released' | 'paused' | 'stopped';

/**
 * One polecat works one claimed bead:
 * 1. check the branch policy; fetch the default branch and the bead's pushed branch;
 * 2. a fresh workspace (its own clone, see workspace.ts) from the bead's own commits when
 *    there are any (nothing committed is lost), else from the default branch; the rig's and
 *    the remote's refs are noted;
 * 3. run the agent in the sandbox, heartbeating on a timer; each checkpoint commits in the
 *    workspace, collects the commits into the rig and pushes `polecat/<name>/<bead>` from there;
 * 4. after the agent: final checkpoint; refuse the bead when a ref it must not touch moved
 *    (ref-tripwire.ts); push; open a PR with a forge, else queue for the Refinery;
 * 5. finishBead (or failBead / releaseBead). A lost lease stops everything at once.
 */
export async function workBead(opts: WorkBeadOptions): Promise<WorkOutcome> {
  const { rig, claim, remote } = opts;
  // Before anything is started (heartbeat timer, workspace): a refusal here leaves nothing behind.
  checkBranchPolicy(claim, remote);
  const bead = (await rig.ledger.get<Bead>('beads', claim.bead))!.value;
  const agentRecord = (await rig.ledger.get<Agent>('agents', claim.polecat))?.value;
  const identity = { name: claim.polecat, email: agentRecord?.email ?? polecatEmail(claim.polecat, rig.settings.polecatEmailDomain) };

  await fetchBranches(rig.repoDir, remote, [claim.branch]);
  let pushed = await refSha(rig.repoDir, `${remote.tracking}${claim.branch}`);
  // The branch still holds a pull request closed unmerged (same polecat slung again): the work
  // starts afresh from the default branch, and its first push replaces the rejected tip with a
  // lease on it. A branch that moved since (this bead's new run already pushed) is resumed.
  const replacing = pushed !== null && bead.rejected?.branch === claim.branch && bead.rejected.tip === pushed;
  let start = replacing ? `${remote.tracking}${remote.defaultBranch}` : await startRef(rig.repoDir, remote, claim.branch, pushed);
  // A conflict round (a sibling merged): the runner rebases before any agent runs.
  let rebase: Extract<RebasePlan, { kind: 'conflict' }> | null = null;
  const unread = (await inbox(rig, claim.polecat)).filter((m) => !m.read && isFeedback(bead.id, m));
  const asks = unread.filter(isConflictFeedback);
  if (asks.length && pushed && !replacing) {
    const plan = await rebaseOntoDefault({
      rigDir: rig.repoDir,
      remote,
      branch: claim.branch,
      pushed,
      identity,
      title: bead.title,
      trailers: polecatTrailers(bead.id, claim.polecat),
    });
    if (plan.kind === 'conflict') {
      rebase = plan;
      start = plan.base;
      opts.log(`rebase onto ${remote.defaultBranch} conflicts in ${plan.conflicts.join(', ')}: the agent resolves them`);
    } else {
      opts.log(
        plan.kind === 'current'
          ? `already on ${remote.defaultBranch}`
          : `rebased onto ${remote.defaultBranch}${plan.squashed ? ' (squashed)' : ''}: pushed ${plan.tip.slice(0, 7)}`,
      );
      // Only the rebase was asked for: the round is done without the agent.
      if (asks.length === unread.length) return finishRebased(opts, bead, plan.tip, plan.kind === 'clean', asks);
      pushed = plan.tip;
      start = plan.tip;
    }
  }
  const ws = await createWorkspace({
    repoDir: rig.repoDir,
    root: opts.workspaceRoot,
    polecat: claim.polecat,
    beadId: claim.bead,
    startRef: start,
    identity,
    hooksDir: opts.hooksDir,
  });
  try {
    if (rebase) await seedWorkspace(rig.repoDir, ws.path, rebase.base, rebase.seed);
    return await workInWorkspace(opts, bead, identity, ws, pushed, rebase, replacing);
  } finally {
    if (!opts.keepWorkspace) await removeWorkspace(ws.dir).catch(() => undefined);
  }
}

/** A rebase-only round: the clean rebase is pushed already; the bead is back in review, the ask read. */
async function finishRebased(opts: WorkBeadOptions, bead: Bead, tip: string, moved: boolean, asks: MailMessage[]): Promise<WorkOutcome> {
  const { rig, claim } = opts;
  const summary = moved
    ? `Rebased ${claim.branch} onto ${opts.remote.defaultBranch} without conflicts (pushed ${tip.slice(0, 7)}); the agent did not run.`
    : `${claim.branch} already holds ${opts.remote.defaultBranch}: nothing to rebase.`;
  await finishBead(rig, claim, { branch: claim.branch, summary, answered: asks.map((m) => m.id) });
  if (bead.pr && opts.forge && moved)
    await opts.forge
      .comment(bead.pr.number, `${summary}\n\n${rebasedMarker(bead.id, tip)}`)
      .catch((err: Error) => opts.log(`could not say so on #${bead.pr!.number}: ${err.message}`));
  return 'in_review';
}

function isFeedback(beadId: string, m: MailMessage): boolean {
  return m.bead === beadId && (m.type === REVISION_MAIL || m.type === 'MERGE_FAILED');
}

async function workInWorkspace(
  opts: WorkBeadOptions,
  bead: Bead,
  identity: GitIdentity,
  ws: PolecatWorkspace,
  pushed: string | null,
  rebase: Extract<RebasePlan, { kind: 'conflict' }> | null,
  replacing = false,
): Promise<WorkOutcome> {
  const { rig, claim, remote } = opts;
  await retryOnGitLock(() => runGitText(['update-ref', `refs/heads/${ws.branch}`, ws.start], { cwd: rig.repoDir }));
  const before = await readRefState(rig.repoDir, remote);
  opts.log(
    replacing
      ? `started ${claim.branch} afresh from ${remote.defaultBranch} (its closed pull request's ${pushed!.slice(0, 7)} is replaced)`
      : pushed
        ? `resuming ${claim.branch} (attempt ${claim.attempt})`
        : `started ${claim.branch}`,
  );

  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  // An already-aborted signal fires no event: check it, or a runner stopping now would still run the agent.
  if (opts.signal.aborted) stop.abort();
  else opts.signal.addEventListener('abort', onOuterAbort, { once: true });
  let lost = false;
  let stopping: StopVerdict | null = null;
  let grace: NodeJS.Timeout | undefined;
  // Feedback on this bead comes in the next round's prompt (a round queued while it works), not as a message.
  const feedbackHere = (m: MailMessage) => isFeedback(bead.id, m);
  // An agent that does not take messages between turns finds them in a file in its HOME.
  const inboxFile = opts.agent.hearsBetweenTurns ? null : join(ws.home, 'gastown-inbox.md');
  if (inboxFile) await writeFile(inboxFile, '');
  const link = startTownLink({
    rig,
    claim,
    sync: opts.sync ?? null,
    stopCheck: opts.stopCheck ?? shouldStop,
    inboxFile,
    keep: feedbackHere,
    log: opts.log,
    // Another runner or the Deacon took the bead: stop at once, write nothing more.
    onLeaseLost() {
      lost = true;
      stop.abort();
    },
    // A person stopped the work: the agent ends at its next checkpoint (or after the grace), with its work pushed.
    onStop(verdict) {
      stopping = verdict;
      opts.log(`stopping at the next checkpoint: ${verdict.reason}`);
      grace = setTimeout(() => stop.abort(), opts.stopGraceMs ?? 10_000);
    },
  });

  const settings = rig.settings.sandbox;
  const spec: SandboxSpec = {
    workspace: ws.path,
    home: ws.home,
    env: sandboxEnv({
      source: opts.env,
      allow: settings.env,
      home: ws.home,
      extra: { GASTOWN_BEAD: bead.id, GASTOWN_POLECAT: claim.polecat, ...(inboxFile ? { GASTOWN_INBOX: inboxFile } : {}) },
    }),
    network: settings.network,
    readOnly: [opts.hooksDir, ...settings.readOnly],
    hide: opts.hide,
  };
  // The rig's tip of the polecat branch, and what the remote branch holds (the final push is
  // skipped when nothing changed since).
  let tip = ws.start;
  let lastPushed: string | null = pushed;
  const collect = async (message: string) => {
    const known = [...new Set([ws.start, tip])];
    const trailers = polecatTrailers(bead.id, claim.polecat);
    tip = (
      await checkpoint({
        sandbox: opts.sandbox,
        spec,
        rigDir: rig.repoDir,
        branch: ws.branch,
        known,
        message,
        identity,
        trailers,
        scratchDir: ws.dir,
      })
    ).tip;
  };
  const push = async (final = true) => {
    if (tip === lastPushed) return;
    if (rebase) {
      // The rebased history replaces the pushed one, once, when the conflicts are resolved:
      // a checkpoint halfway would push conflict markers.
      if (!final) return;
      await pushWithLease(rig.repoDir, remote, ws.branch, pushed!);
    } else if (replacing) {
      // Not a fast-forward of the rejected tip: replaced only while the remote still holds what this run last saw there.
      await pushWithLease(rig.repoDir, remote, ws.branch, lastPushed!);
    } else await pushPolecatBranch(rig.repoDir, remote.remote, ws.branch);
    lastPushed = tip;
  };
  // The agent's kind names it on the cost record (a label, not a switch).
  const guard = turnGuard({ rig, claim, bead, agent: opts.agent.kind, sync: opts.sync }); // kind-as-label
  const ctx: AgentContext = {
    signal: stop.signal,
    log: opts.log,
    halted: guard.halted,
    reportUsage: guard.reportUsage,
    exec: (argv, o = {}) => runInSandbox(opts.sandbox, spec, argv, { ...o, signal: stop.signal }),
    async checkpoint(message) {
      if (lost) return;
      await collect(commitMessage(bead, message));
      await push(false);
      if (stopping) stop.abort();
    },
    async readInbox() {
      const mail = await takeUnread(rig, claim.polecat, (m) => !feedbackHere(m));
      return mail.map((m) => ({ from: m.from, subject: m.subject, body: m.body, kind: m.kind }));
    },
  };

  // A revision round: what the reviewers (or CI, or the Refinery) said goes into the prompt.
  // Marked read only once the round's work is pushed, so a failed attempt sees it again.
  const feedback: MailMessage[] = (await inbox(rig, claim.polecat)).filter((m) => !m.read && isFeedback(bead.id, m));
  const round = bead.revisions ?? 0;
  if (feedback.length) opts.log(`revision round ${round}: ${feedback.length} piece${feedback.length === 1 ? '' : 's'} of feedback`);
  let result: AgentResult;
  try {
    const task = {
      beadId: bead.id,
      title: bead.title,
      body: bead.body,
      acceptance: bead.acceptance,
      files: bead.files,
      workspace: ws.path,
    };
    const told = (await withReviewComments(opts, feedback)).map((m) =>
      rebase && isConflictFeedback(m) ? { ...m, body: `${m.body}\n\n${conflictNote(remote.defaultBranch, rebase.conflicts)}` } : m,
    );
    result = await opts.agent.run(
      {
        ...task,
        inboxFile: inboxFile ?? undefined,
        prompt: beadPrompt({ ...task, round, feedback: told, inboxFile: inboxFile ?? undefined }),
      },
      ctx,
    );
  } catch (err) {
    result = { ok: false, summary: `agent error: ${(err as Error).message}` };
  } finally {
    clearTimeout(grace);
    opts.signal.removeEventListener('abort', onOuterAbort);
  }
  await link.close();
  await guard.finish(result.usage).catch((err: unknown) => opts.log(`could not record usage: ${(err as Error).message}`));

  // Refs other than the polecat's own branch that moved while the agent worked (ref-tripwire.ts).
  const movedRefs = async () =>
    refsMovedByAgent({
      rigDir: rig.repoDir,
      remote,
      branch: ws.branch,
      ledgerPrefix: rig.settings.prefix,
      tombstoned: (ref) => rig.ledger.kinds.keepsHistory(ref.slice(rig.settings.prefix.length).split('/')[0]!),
      start: ws.start,
      tip,
      before,
      after: await readRefState(rig.repoDir, remote),
    });

  // Stopped: whatever the workspace holds is committed and pushed on the polecat's branch (a
  // resumed bead starts from it), unless the agent touched refs that are not its own. The
  // ledger is left as the stop left it (stopConvoy put the bead back to open).
  const pushStopped = async (verdict: StopVerdict): Promise<WorkOutcome> => {
    await collect(commitMessage(bead, `stopped: ${verdict.reason}`));
    const moved = await movedRefs();
    if (moved.length) opts.log(`stopped; not pushed: refs moved while the agent worked: ${moved.join('; ')}`);
    else {
      await push();
      opts.log(`stopped (${verdict.reason}); work pushed to ${ws.branch}`);
    }
    return 'stopped';
  };
  const fail = async (summary: string, permanent?: boolean): Promise<WorkOutcome> => {
    const after = await failBead(rig, claim, summary, { permanent });
    opts.log(`failed: ${firstLine(summary)}`);
    return after.status === 'failed' ? 'failed' : 'retry';
  };
  try {
    if (lost) return 'lost';
    if (stopping) return await pushStopped(stopping);
    if (opts.signal.aborted) {
      await releaseBead(rig, claim);
      return 'released';
    }
    if (result.ok) await collect(`${bead.title}\n\n${result.summary}`.slice(0, 2000));
    const moved = await movedRefs();
    // Nothing of this bead is pushed once it is caught touching refs that are not its own.
    if (moved.length)
      return await fail(
        `refused: refs moved while the agent worked: ${moved.join('; ')}${result.ok ? '' : `\nthe agent also failed: ${result.summary}`}`,
        true,
      );
    // A halt only stops an agent that had not finished: work done on the turn that spent the budget still goes to review.
    if (guard.halt && !result.ok) return await guard.settle({ collect, push });
    if (!result.ok) return await fail(result.summary, result.permanent);
    const markers = rebase ? await unresolved(rig.repoDir, tip, rebase.conflicts) : [];
    if (markers.length) return await fail(`the rebase's conflicts are not resolved: conflict markers left in ${markers.join(', ')}`);
    await push();
    // The local forge opens nothing (null): the bead then waits for the Refinery.
    const pr = opts.forge ? await openPr(opts, bead, ws.branch) : null;
    // A conflict round counts only when the agent edited files that were not in conflict.
    const beyond = rebase ? await touchedBeyondConflicts(rig.repoDir, rebase.seed, tip, rebase.conflicts) : [];
    if (beyond.length) opts.log(`the conflict round edited ${beyond.join(', ')} too: it counts as a revision round`);
    await finishBead(rig, claim, {
      branch: ws.branch,
      pr: pr ?? undefined,
      summary: result.summary,
      answered: feedback.map((m) => m.id),
      countRound: beyond.length > 0 && feedback.every(isConflictFeedback),
    });
    opts.log(pr ? `opened ${pr.url}` : 'done: queued for the Refinery');
    // On a revised pull request the polecat answers the reviewers (after the push, once).
    if (pr && feedback.length) await replyOnPr(opts, pr.number, round, tip, feedback, result.summary);
    return 'in_review';
  } catch (err) {
    if (isLeaseLost(err)) return 'lost';
    // A push refused by the remote, or commits the rig refused, are the polecat's failure, not the runner's.
    try {
      return await fail(`runner: ${(err as Error).message}`);
    } catch (inner) {
      if (isLeaseLost(inner)) return 'lost';
      throw inner;
    }
  }
}

/**
 * Where the workspace starts: the rig's own `polecat/<name>/<bead>` when it holds commits the
 * remote does not have yet (a push that failed), else the pushed branch, else the default branch.
 */
async function startRef(repoDir: string, remote: RigRemote, branch: string, pushed: string | null): Promise<string> {
  const local = await refSha(repoDir, `refs/heads/${branch}`);
  if (
    local &&
    local !== pushed &&
    (!pushed || (await runGitText(['merge-base', '--is-ancestor', pushed, local], { cwd: repoDir, okCodes: [0, 1] })).exitCode === 0)
  )
    return `refs/heads/${branch}`;
  return pushed ? `${remote.tracking}${branch}` : `${remote.tracking}${remote.defaultBranch}`;
}

async function openPr(opts: WorkBeadOptions, bead: Bead, branch: string) {
  const convoy = bead.convoy ? (await opts.rig.ledger.get<Convoy>('convoys', bead.convoy))?.value : null;
  const lines = [
    bead.issue ? `Closes #${bead.issue.number}` : `Gas Town bead ${bead.id}`,
    '',
    bead.title,
    convoy ? `\nPart of convoy ${convoy.id}${convoy.source?.issue ? ` (${convoy.source.issue.url})` : ''}: ${convoy.title}` : '',
    `\n${beadMarker(bead.id)}`,
  ];
  return opts.forge!.openPullRequest({
    head: branch,
    base: opts.remote.defaultBranch,
    title: bead.title,
    body: lines.join('\n'),
    draft: opts.draft,
  });
}

/**
 * Feedback from a review carries the review's id (town/ids.ts reviewMarker): its inline
 * comments (file, line, text) are fetched here, with the runner's forge, and added to it.
 * Bots' comments are left out; a forge that cannot say leaves the feedback as it is.
 */
async function withReviewComments(opts: WorkBeadOptions, feedback: MailMessage[]): Promise<MailMessage[]> {
  return Promise.all(
    feedback.map(async (m) => {
      const review = parseReviewMarker(m.body);
      if (!review || !opts.forge?.reviewComments) return m;
      try {
        const comments = (await opts.forge.reviewComments(review.pr, review.review)).filter((c) => !c.author.endsWith('[bot]'));
        if (!comments.length) return m;
        const lines = comments.map((c) => `- ${c.path}${c.line ? `:${c.line}` : ''} (${c.author}): ${c.body.trim()}`);
        return { ...m, body: `${m.body}\n\nInline comments:\n${lines.join('\n')}`.slice(0, 40_000) };
      } catch (err) {
        opts.log(`could not read the inline comments of review ${review.review}: ${(err as Error).message}`);
        return m;
      }
    }),
  );
}

/** A short answer on the pull request: which feedback this push addresses and what the agent said it did. */
async function replyOnPr(
  opts: WorkBeadOptions,
  pr: number,
  round: number,
  tip: string,
  feedback: MailMessage[],
  summary: string,
): Promise<void> {
  const points = feedback.map((f) => {
    const said = firstLine(sanitizeUntrustedText(f.body.replace(/^[a-z]+ feedback on \S+:\n+/, '')));
    return `- ${f.from}: “${said}”`;
  });
  const body = [
    `Revision round ${round}: pushed ${tip.slice(0, 7)}.`,
    '',
    'Addressed:',
    ...points,
    '',
    summary.trim().slice(0, 3000),
    `\n${revisionMarker(opts.claim.bead, round)}`,
  ].join('\n');
  try {
    await opts.forge!.comment(pr, body);
  } catch (err) {
    // The work is pushed and recorded; a lost reply is not worth failing the bead over.
    opts.log(`could not reply on #${pr}: ${(err as Error).message}`);
  }
}

/** `<bead title> (<what the agent said>)` as the subject, so `git log --oneline main` reads as work done. */
function commitMessage(bead: Bead, message: string): string {
  const [first = '', ...rest] = message.split('\n');
  let subject = `${bead.title} (${first.trim()})`;
  if (subject.length > 100) subject = `${subject.slice(0, 97)}...`;
  return [subject, '', first.trim(), ...rest].join('\n').trim();
}

/**
 * A runner pushes one branch per claim, `polecat/<name>/<bead>`, and never the default
 * branch (a rig whose default branch is named like a polecat branch is refused too).
 */
export function checkBranchPolicy(claim: Claim, remote: RigRemote): void {
  const expected = polecatBranch(claim.polecat, claim.bead);
  if (claim.branch !== expected || claim.branch === remote.defaultBranch)
    throw new GastownError(
      'gastown_forbidden',
      `refusing to work on ${claim.branch}: this polecat pushes only ${expected}, never the default branch ${remote.defaultBranch}`,
    );
}
