import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { GastownError } from '../../errors.js';
import type { ForgePort } from '../../forge/forge-port.js';
import { takeUnread } from '../../rig/mail.js';
import type { Rig } from '../../rig/rig.js';
import { failBead, finishBead, firstLine, heartbeat, isLeaseLost, releaseBead, type Claim } from '../../rig/work.js';
import { polecatEmail } from '../../town/names.js';
import type { Agent, Bead, Convoy } from '../../town/types.js';
import type { AgentContext, AgentResult, PolecatAgent } from '../agents/agent.js';
import { checkpoint } from '../checkpoint.js';
import { beadPrompt } from '../prompt.js';
import { createPolecatWorktree, polecatBranch, removePolecatWorktree } from '../worktree.js';
import { fetchBranches, refSha, retryOnGitLock, type RigRemote } from './rig-remote.js';

export interface WorkBeadOptions {
  rig: Rig;
  claim: Claim;
  agent: PolecatAgent;
  remote: RigRemote;
  hooksDir: string;
  worktreeRoot: string;
  forge: ForgePort | null;
  draft: boolean;
  /** Stops the agent: the bead is released for another runner. */
  signal: AbortSignal;
  log: (text: string) => void;
  /** Keep the worktree afterwards (tests and debugging). */
  keepWorktree?: boolean;
  /**
   * Serialises worktree setup and removal among this process's polecats: `git worktree
   * add/prune` and the shared config they write race with each other (a prune can even drop
   * a worktree being added), so only one runs at a time.
   */
  worktreeLock?: <T>(fn: () => Promise<T>) => Promise<T>;
}

export type WorkOutcome = 'in_review' | 'retry' | 'failed' | 'lost' | 'released';

/**
 * One polecat works one claimed bead:
 * 1. fetch the default branch and the bead's pushed branch; drop a dead runner's worktree;
 * 2. worktree on polecat/<name>/<bead> from the pushed branch when there is one (nothing
 *    committed is lost), else from the default branch; hooks and identity installed;
 * 3. run the agent, heartbeating on a timer; its checkpoints commit and push the branch;
 * 4. final checkpoint and push; open a PR with a forge, else queue for the Refinery;
 * 5. finishBead (or failBead / releaseBead). A lost lease stops everything at once.
 */
export async function workBead(opts: WorkBeadOptions): Promise<WorkOutcome> {
  const { rig, claim, remote } = opts;
  // Before anything is started (heartbeat timer, worktree): a refusal here leaves nothing behind.
  checkBranchPolicy(claim, remote);
  const bead = (await rig.ledger.get<Bead>('beads', claim.bead))!.value;
  const agentRecord = (await rig.ledger.get<Agent>('agents', claim.polecat))?.value;
  const identity = { name: claim.polecat, email: agentRecord?.email ?? polecatEmail(claim.polecat, rig.settings.polecatEmailDomain) };

  const lock = opts.worktreeLock ?? ((fn) => fn());
  await fetchBranches(rig.repoDir, remote, [claim.branch]);
  const pushed = await refSha(rig.repoDir, `${remote.tracking}${claim.branch}`);
  // A dead runner's worktree may hold half-written, uncommitted files: start clean from commits.
  const stale = join(opts.worktreeRoot, `${claim.polecat}-${claim.bead}`);
  if (existsSync(stale)) await lock(() => removePolecatWorktree(rig.repoDir, stale));
  const wt = await lock(() => retryOnGitLock(() => createPolecatWorktree({
    repoDir: rig.repoDir,
    worktreeRoot: opts.worktreeRoot,
    polecat: claim.polecat,
    beadId: claim.bead,
    baseRef: `${remote.tracking}${remote.defaultBranch}`,
    resumeFrom: pushed ? `${remote.tracking}${claim.branch}` : null,
    identity,
    hooksDir: opts.hooksDir,
  })));
  opts.log(pushed ? `resuming ${claim.branch} (attempt ${claim.attempt})` : `started ${claim.branch}`);

  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  // An already-aborted signal fires no event: check it, or a runner stopping now would still run the agent.
  if (opts.signal.aborted) stop.abort();
  else opts.signal.addEventListener('abort', onOuterAbort, { once: true });
  let lost = false;
  let beating = Promise.resolve();
  const timer = setInterval(() => {
    beating = beating.then(async () => {
      if (lost) return;
      try {
        await heartbeat(rig, claim);
      } catch (err) {
        // Another runner or the Deacon took the bead: stop at once, write nothing more.
        if (isLeaseLost(err)) {
          lost = true;
          stop.abort();
        }
      }
    });
  }, rig.settings.heartbeatMs);

  const push = { remote: remote.remote, branch: wt.branch };
  // What the remote branch holds, so the final push is skipped when nothing changed since.
  let lastPushed: string | null = pushed;
  const ctx: AgentContext = {
    signal: stop.signal,
    log: opts.log,
    async checkpoint(message) {
      if (lost) return;
      lastPushed = (await checkpoint({ worktree: wt.path, message: commitMessage(bead, message), push })).sha;
    },
    async readInbox() {
      const mail = await takeUnread(rig, claim.polecat);
      return mail.map((m) => ({ from: m.from, subject: m.subject, body: m.body, kind: m.kind }));
    },
  };

  let result: AgentResult;
  try {
    result = await opts.agent.run(
      { beadId: bead.id, title: bead.title, body: bead.body, acceptance: bead.acceptance, files: bead.files, prompt: beadPrompt({ beadId: bead.id, ...bead }), worktree: wt.path },
      ctx,
    );
  } catch (err) {
    result = { ok: false, summary: `agent error: ${(err as Error).message}` };
  } finally {
    clearInterval(timer);
    opts.signal.removeEventListener('abort', onOuterAbort);
  }
  await beating;

  try {
    if (lost) return 'lost';
    if (opts.signal.aborted) {
      await releaseBead(rig, claim);
      return 'released';
    }
    if (!result.ok) {
      const after = await failBead(rig, claim, result.summary, { permanent: result.permanent });
      opts.log(`failed: ${firstLine(result.summary)}`);
      return after.status === 'failed' ? 'failed' : 'retry';
    }
    const last = await checkpoint({ worktree: wt.path, message: `${bead.title}\n\n${result.summary}`.slice(0, 2000) });
    if (last.committed || last.sha !== lastPushed) await checkpoint({ worktree: wt.path, message: '', push });
    const pr = opts.forge && opts.forge.kind !== 'local' ? await openPr(opts, bead, wt.branch) : null;
    await finishBead(rig, claim, { branch: wt.branch, pr: pr ?? undefined, summary: result.summary });
    opts.log(pr ? `opened ${pr.url}` : 'done: queued for the Refinery');
    return 'in_review';
  } catch (err) {
    if (isLeaseLost(err)) return 'lost';
    // A push refused by the remote or the pre-push hook is the polecat's failure, not the runner's.
    const summary = `runner: ${(err as Error).message}`;
    try {
      const after = await failBead(rig, claim, summary);
      opts.log(`failed: ${firstLine(summary)}`);
      return after.status === 'failed' ? 'failed' : 'retry';
    } catch (inner) {
      if (isLeaseLost(inner)) return 'lost';
      throw inner;
    }
  } finally {
    // Only the directory goes here (no git, no lock): the next worktree setup prunes its registration.
    if (!opts.keepWorktree) await rm(wt.path, { recursive: true, force: true }).catch(() => undefined);
  }
}

async function openPr(opts: WorkBeadOptions, bead: Bead, branch: string) {
  const convoy = bead.convoy ? (await opts.rig.ledger.get<Convoy>('convoys', bead.convoy))?.value : null;
  const lines = [
    bead.issue ? `Closes #${bead.issue.number}` : `Gas Town bead ${bead.id}`,
    '',
    bead.title,
    convoy ? `\nPart of convoy ${convoy.id}${convoy.source?.issue ? ` (${convoy.source.issue.url})` : ''}: ${convoy.title}` : '',
    `\n<!-- gastown:bead ${bead.id} -->`,
  ];
  return opts.forge!.openPullRequest({ head: branch, base: opts.remote.defaultBranch, title: bead.title, body: lines.join('\n'), draft: opts.draft });
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
    throw new GastownError('gastown_forbidden', `refusing to work on ${claim.branch}: this polecat pushes only ${expected}, never the default branch ${remote.defaultBranch}`);
}
