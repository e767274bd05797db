/**
 * The ledger side of a polecat's work: dispatch, claim, heartbeat, finish, fail, release.
 * Every write is one compare-and-swap transaction carrying its feed event, so two runners
 * (on one machine or many) can never hold the same bead and a crash never half-applies.
 * The functions passed to `transact` only read and write the ledger (they may run twice).
 */
import { GastownError, isGastownError } from '../errors.js';
import type { Transaction } from '../ledger/ledger.js';
import { readyBeads } from '../town/graph.js';
import { transitionBead } from '../town/lifecycle.js';
import type { Agent, Bead, Convoy, Heartbeat, Hook } from '../town/types.js';
import { allBeads } from './beads.js';
import { firstLine, inbox, mailInTx, reportInTx, type InboxEntry } from './mail.js';
import { REVISION_MAIL } from '../town/revision.js';
import { resumePendingRevisions, reviseInTx } from './revise-bead.js';
import type { Rig } from './rig.js';
import { sling, type SlingResult } from './sling.js';
import { polecatBranch } from '../town/ids.js';
import { feedRefs } from '../town/feed-refs.js';
import { beadsSpent, budgetSpent } from '../town/costs.js';
import { estopEngagedIn, estopState } from './estop.js';
import { runGit } from '../ledger/run-git.js';

/** A runner's hold on one bead, returned by claimBead and passed back on every later call. */
export interface Claim {
  bead: string;
  polecat: string;
  runner: string;
  /** The bead's attempts counter after this claim (1 for the first run). */
  attempt: number;
  branch: string;
  /** True when the bead was taken over from a runner whose lease ran out. */
  takeover: boolean;
  /**
   * With claimBead's `track`: the refs the claim wrote (bead, heartbeat, hook) with their
   * values before and after, so the claim can be published to a remote by compare-and-swap
   * (polecat/runner/publish-claim.ts) and undone here when it loses there.
   */
  refs?: ClaimedRef[];
}

export interface ClaimedRef {
  ref: string;
  /** Null: the ref did not exist before the claim. */
  before: string | null;
  after: string;
}

export { firstLine, mailInTx };

/** Convoy statuses whose beads may be worked on. */
const WORKABLE_CONVOY = new Set<Convoy['status']>(['active']);

/** The coded error a runner gets once its bead is no longer its own: stop working on it. */
export function leaseLost(claim: Claim, why: string): GastownError {
  return new GastownError('gastown_conflict', `${claim.polecat} lost ${claim.bead}: ${why}`, { leaseLost: true, bead: claim.bead });
}

export function isLeaseLost(err: unknown): boolean {
  return isGastownError(err, 'gastown_conflict') && err.details?.leaseLost === true;
}

/** Ready beads whose convoy (if any) is approved and running, most urgent first. */
export async function dispatchable(rig: Rig, beads?: Bead[]): Promise<Bead[]> {
  const all = beads ?? (await allBeads(rig));
  const convoys = new Map((await rig.ledger.list<Convoy>('convoys')).map((c) => [c.id, c.value]));
  // A convoy whose budget is spent gets no new bead started (town/costs.ts).
  const spent = new Set(
    [...convoys.values()]
      .filter((c) => c.budget && budgetSpent(c.budget, beadsSpent(all.filter((b) => b.convoy === c.id))))
      .map((c) => c.id),
  );
  return readyBeads(all).filter((b) => {
    if (!b.convoy) return true;
    const c = convoys.get(b.convoy);
    return !!c && WORKABLE_CONVOY.has(c.status) && !spent.has(c.id);
  });
}

/**
 * Slings ready beads to polecats from the name pool until hooked + in-progress beads reach
 * the cap (settings.concurrency by default). A bead another dispatcher took first is
 * skipped, not an error. Returns what this call slung.
 */
export async function dispatchReady(rig: Rig, opts: { cap?: number; only?: string } = {}): Promise<SlingResult[]> {
  const cap = opts.cap ?? rig.settings.concurrency;
  if ((await estopState(rig)).engaged) return [];
  // Beads sent back for revision while their polecat held other work go first, to that polecat.
  await resumePendingRevisions(rig, await allBeads(rig));
  const beads = await allBeads(rig);
  let busy = beads.filter((b) => b.status === 'hooked' || b.status === 'in_progress').length;
  const slung: SlingResult[] = [];
  for (const bead of await dispatchable(rig, beads)) {
    if (busy >= cap) break;
    if (opts.only && bead.id !== opts.only) continue;
    // Two dispatchers may pick the same free polecat name: the loser's CAS fails, it picks again.
    for (let tries = 0; tries < 5; tries++) {
      try {
        slung.push(await sling(rig, bead.id));
        busy++;
        break;
      } catch (err) {
        if (isGastownError(err, 'gastown_conflict') && /already has/.test(err.message)) continue;
        if (isGastownError(err, 'gastown_conflict') && err.details?.estop) return slung;
        if (isGastownError(err, 'gastown_illegal_transition') || isGastownError(err, 'gastown_not_ready')) break;
        throw err;
      }
    }
  }
  return slung;
}

function isStale(beat: Heartbeat | null, bead: string, now: number, leaseMs: number): boolean {
  return !beat || beat.bead !== bead || now - Date.parse(beat.at) > leaseMs;
}

/**
 * Takes one bead for `runner`: a hooked bead (of `polecat`, or `bead`, when given) goes to
 * in_progress, or an in-progress bead whose heartbeat is older than the lease is taken over.
 * Null when nothing is claimable. The bead and the heartbeat change in one transaction, so
 * of two runners racing for a bead exactly one wins.
 */
export async function claimBead(
  rig: Rig,
  opts: { runner: string; polecat?: string; bead?: string; track?: boolean },
): Promise<Claim | null> {
  const now = rig.now().getTime();
  if ((await estopState(rig)).engaged) return null;
  const beads = opts.bead ? (await rig.ledger.getMany<Bead>('beads', [opts.bead])).map((v) => v.value) : await allBeads(rig);
  const beats = new Map((await rig.ledger.list<Heartbeat>('heartbeats')).map((h) => [h.id, h.value]));
  const candidates = beads
    .filter((b) => b.assignee && !b.paused && (!opts.polecat || b.assignee === opts.polecat))
    .filter(
      (b) =>
        b.status === 'hooked' || (b.status === 'in_progress' && isStale(beats.get(b.assignee!) ?? null, b.id, now, rig.settings.leaseMs)),
    )
    .sort(
      (a, b) =>
        a.priority - b.priority ||
        // Runners racing through a shared remote (`track`) take equally urgent beads in an order
        // of their own, so they do not all go for the same one and all but one lose.
        (opts.track ? spread(opts.runner, a.id) - spread(opts.runner, b.id) : 0) ||
        a.createdAt.localeCompare(b.createdAt) ||
        a.id.localeCompare(b.id),
    );
  for (const candidate of candidates) {
    let before = new Map<string, string>();
    const claim = await rig.ledger.transact(
      async (tx): Promise<Claim | null> => {
        const bead = await tx.get<Bead>('beads', candidate.id);
        if (!bead?.assignee || bead.paused || (await estopEngagedIn(tx))) return null;
        const polecat = bead.assignee;
        const beat = await tx.get<Heartbeat>('heartbeats', polecat);
        await tx.get<Hook>('hooks', polecat);
        // Read after the transaction's own reads: a change in between fails its compare-and-swap
        // and this runs again, so these are the values the claim replaces.
        if (opts.track) before = await refValues(rig, claimRefNames(rig, bead.id, polecat));
        const takeover = bead.status === 'in_progress';
        if (takeover && !isStale(beat, bead.id, rig.now().getTime(), rig.settings.leaseMs)) return null;
        // Through a shared remote a finish can arrive in halves (its heartbeat's delete before
        // the bead's in_review, sync's push not being atomic): a deleted heartbeat beside an
        // in-progress bead is a finish on its way, not a dead runner. Wait for the rest.
        if (takeover && opts.track && !beat && (await rig.ledger.exists('heartbeats', polecat))) return null;
        if (!takeover && bead.status !== 'hooked') return null;
        const branch = polecatBranch(polecat, bead.id);
        const patch = { attempts: bead.attempts + 1, branch, assignee: polecat };
        const next = takeover ? { ...bead, ...patch, updatedAt: rig.at() } : transitionBead(bead, 'in_progress', rig.at(), patch);
        tx.put('beads', bead.id, next, `claim beads/${bead.id}`);
        tx.put<Heartbeat>(
          'heartbeats',
          polecat,
          { agent: polecat, bead: bead.id, runner: opts.runner, at: rig.at() },
          `beat heartbeats/${polecat}`,
        );
        const hook = await tx.get<Hook>('hooks', polecat);
        if (hook?.bead !== bead.id)
          tx.put<Hook>('hooks', polecat, { agent: polecat, bead: bead.id, slungAt: rig.at(), slungBy: rig.actor });
        rig.emit(
          tx,
          takeover ? 'stalled' : 'bead_started',
          takeover
            ? `${opts.runner} took over ${bead.id} from ${beat?.runner ?? 'a silent runner'} (attempt ${next.attempts})`
            : `${polecat} started ${bead.id} on ${opts.runner} (attempt ${next.attempts})`,
          feedRefs(bead),
        );
        return { bead: bead.id, polecat, runner: opts.runner, attempt: next.attempts, branch, takeover };
      },
      { actor: opts.runner },
    );
    if (claim && opts.track) {
      const names = claimRefNames(rig, claim.bead, claim.polecat);
      const after = await refValues(rig, names);
      claim.refs = names
        .filter((ref) => after.has(ref) && after.get(ref) !== before.get(ref))
        .map((ref) => ({ ref, before: before.get(ref) ?? null, after: after.get(ref)! }));
    }
    if (claim) return claim;
  }
  return null;
}

/** A stable pseudo-random rank of a bead for one runner (FNV-1a of both names). */
function spread(runner: string, bead: string): number {
  let h = 0x811c9dc5;
  for (const ch of `${runner}\0${bead}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

/** The refs a claim may write besides the feed: the bead, the polecat's heartbeat and its hook. */
function claimRefNames(rig: Rig, bead: string, polecat: string): string[] {
  return [rig.ledger.ref('beads', bead), rig.ledger.ref('heartbeats', polecat), rig.ledger.ref('hooks', polecat)];
}

/** Current values of the given refs (absent ones left out), one `for-each-ref`. */
async function refValues(rig: Rig, refs: string[]): Promise<Map<string, string>> {
  const { stdout } = await runGit(['for-each-ref', '--format=%(objectname) %(refname)', ...refs], { cwd: rig.repoDir });
  const map = new Map<string, string>();
  for (const line of stdout.toString('utf8').split('\n')) {
    const sp = line.indexOf(' ');
    // for-each-ref matches by prefix: keep only the exact names asked for.
    if (sp > 0 && refs.includes(line.slice(sp + 1))) map.set(line.slice(sp + 1), line.slice(0, sp));
  }
  return map;
}

/** Reads the bead and heartbeat inside `tx` and throws leaseLost unless both are still this claim's. */
async function ownBead(tx: Transaction, claim: Claim): Promise<{ bead: Bead; beat: Heartbeat | null }> {
  const bead = await tx.get<Bead>('beads', claim.bead);
  if (!bead) throw leaseLost(claim, 'the bead is gone');
  if (bead.status !== 'in_progress') throw leaseLost(claim, `the bead is ${bead.status}`);
  if (bead.assignee !== claim.polecat) throw leaseLost(claim, `the bead is assigned to ${bead.assignee ?? 'nobody'}`);
  const beat = await tx.get<Heartbeat>('heartbeats', claim.polecat);
  if (beat && (beat.runner !== claim.runner || beat.bead !== claim.bead)) throw leaseLost(claim, `runner ${beat.runner} holds it now`);
  return { bead, beat };
}

/** Renews the lease. Throws leaseLost (isLeaseLost) when the bead is no longer this runner's. */
export async function heartbeat(rig: Rig, claim: Claim): Promise<void> {
  await rig.ledger.transact(
    async (tx) => {
      await ownBead(tx, claim);
      tx.put<Heartbeat>('heartbeats', claim.polecat, { agent: claim.polecat, bead: claim.bead, runner: claim.runner, at: rig.at() });
    },
    { actor: claim.runner },
  );
}

function clearHook(tx: Transaction, hook: Hook | null, polecat: string, bead: string): void {
  if (hook?.bead === bead) tx.put<Hook>('hooks', polecat, { agent: polecat, bead: null, slungAt: null, slungBy: null });
}

/**
 * The polecat is done: in_progress → in_review with its branch (and PR, with a forge), the
 * hook freed for the next bead, the lease dropped, mail POLECAT_DONE to the mayor. When a
 * revision was queued meanwhile (rig/revise-bead.ts), the next round starts at once.
 */
export async function finishBead(
  rig: Rig,
  claim: Claim,
  out: {
    branch: string;
    pr?: Bead['pr'];
    summary?: string;
    answered?: readonly string[];
    /** A round that did not count when it was asked for (a conflict) counts after all: the agent edited code beyond it. */
    countRound?: boolean;
  },
): Promise<Bead> {
  const answered = new Set(out.answered ?? []);
  return rig.ledger.transact(
    async (tx) => {
      const { bead } = await ownBead(tx, claim);
      const next = transitionBead(bead, 'in_review', rig.at(), {
        branch: out.branch,
        pr: out.pr ?? bead.pr,
        ...(bead.revisionPending ? { revisionPending: false } : {}),
        // The rejected branch was replaced by this run's push (or deleted by the forge): nothing left to clean.
        ...(bead.rejected ? { rejected: null } : {}),
        ...(out.countRound ? { revisions: (bead.revisions ?? 0) + 1 } : {}),
      });
      tx.put('beads', bead.id, next, `finish beads/${bead.id}`);
      clearHook(tx, await tx.get<Hook>('hooks', claim.polecat), claim.polecat, bead.id);
      tx.delete('heartbeats', claim.polecat);
      // The feedback this round answered is read in the same step, so no pass in between
      // takes it for a queued request.
      for (const id of answered) tx.append<InboxEntry>('mail', claim.polecat, { read: { readId: id, at: rig.at() } }, `read ${id}`);
      const waits = !next.pr && rig.settings.review === 'required' ? 'waits for review (gt review)' : 'queued for the Refinery';
      if (next.pr)
        rig.emit(
          tx,
          'pr_opened',
          `${claim.polecat} ${bead.pr ? 'updated' : 'opened'} ${next.pr.url} for ${bead.id}`,
          feedRefs(bead, next.pr.url),
        );
      else rig.emit(tx, 'bead_updated', `${claim.polecat} finished ${bead.id}: ${out.branch} ${waits}`, feedRefs(bead));
      // On the polecat's own report chain: every runner's finish writing one inbox ref was
      // the hot spot of many runners (see REPORTS_TO).
      reportInTx(rig, tx, {
        from: claim.polecat,
        subject: `POLECAT_DONE ${bead.id}: ${bead.title}`.slice(0, 200),
        body: [`branch: ${out.branch}`, next.pr ? `pr: ${next.pr.url}` : waits, out.summary ?? ''].filter(Boolean).join('\n'),
        type: 'POLECAT_DONE',
        bead: bead.id,
      });
      // Feedback that arrived while the polecat worked (not in this round's prompt) was
      // queued in its inbox: its round starts now, on the same hook.
      const queued = (await inbox(rig, claim.polecat)).filter(
        (m) => !m.read && m.bead === bead.id && m.type === REVISION_MAIL && !answered.has(m.id),
      );
      if (queued.length) {
        const who = [...new Set(queued.map((m) => m.from))].join(', ');
        const owed = await reviseInTx(rig, tx, next, { by: 'gastown', kind: 'review', text: `queued feedback from ${who}`, quiet: true });
        return owed.bead;
      }
      return next;
    },
    { actor: claim.polecat },
  );
}

/**
 * The agent failed. Within settings.retryCap attempts the bead goes back on the same
 * polecat's hook for another try (its pushed branch is kept); after that it fails, the
 * polecat's failure count grows and the mayor gets mail.
 */
export async function failBead(rig: Rig, claim: Claim, reason: string, opts: { permanent?: boolean } = {}): Promise<Bead> {
  return rig.ledger.transact(
    async (tx) => {
      const { bead } = await ownBead(tx, claim);
      tx.delete('heartbeats', claim.polecat);
      if (!opts.permanent && bead.attempts <= rig.settings.retryCap) {
        const next = transitionBead(bead, 'hooked', rig.at(), { assignee: claim.polecat });
        tx.put('beads', bead.id, next, `retry beads/${bead.id}`);
        rig.emit(
          tx,
          'bead_updated',
          `${claim.polecat} failed attempt ${bead.attempts} of ${bead.id}; retrying: ${firstLine(reason)}`,
          feedRefs(bead),
        );
        return next;
      }
      const next = transitionBead(bead, 'failed', rig.at());
      tx.put('beads', bead.id, next, `fail beads/${bead.id}`);
      clearHook(tx, await tx.get<Hook>('hooks', claim.polecat), claim.polecat, bead.id);
      await countOnAgent(tx, claim.polecat, 'beadsFailed');
      const after = opts.permanent ? 'at once (a retry cannot fix this)' : `after ${bead.attempts} attempts`;
      rig.emit(tx, 'bead_failed', `${bead.id} failed ${after}: ${firstLine(reason)}`, feedRefs(bead));
      reportInTx(rig, tx, {
        from: claim.polecat,
        subject: `BEAD_FAILED ${bead.id}: ${bead.title}`.slice(0, 200),
        body: reason,
        type: 'BEAD_FAILED',
        bead: bead.id,
      });
      return next;
    },
    { actor: claim.polecat },
  );
}

/** The runner gives the bead up (shutting down): back to hooked on the same polecat, claimable at once. */
export async function releaseBead(rig: Rig, claim: Claim, why = 'runner stopped'): Promise<Bead | null> {
  try {
    return await rig.ledger.transact(
      async (tx) => {
        const { bead } = await ownBead(tx, claim);
        const next = transitionBead(bead, 'hooked', rig.at(), { assignee: claim.polecat });
        tx.put('beads', bead.id, next, `release beads/${bead.id}`);
        tx.delete('heartbeats', claim.polecat);
        rig.emit(tx, 'bead_updated', `${claim.runner} released ${bead.id} (${why})`, feedRefs(bead));
        return next;
      },
      { actor: claim.runner },
    );
  } catch (err) {
    if (isLeaseLost(err)) return null;
    throw err;
  }
}

export async function countOnAgent(tx: Transaction, name: string, field: 'beadsDone' | 'beadsFailed'): Promise<void> {
  const agent = await tx.get<Agent>('agents', name);
  if (agent) tx.put<Agent>('agents', name, { ...agent, [field]: agent[field] + 1 });
}

/** Counts that tell a runner whether the town has anything left to do. */
export async function workLeft(rig: Rig): Promise<{ ready: number; hooked: number; inProgress: number; queued: number }> {
  const beads = await allBeads(rig);
  return {
    ready: (await dispatchable(rig, beads)).length,
    // A bead paused for budget waits for a person, not for this runner.
    hooked: beads.filter((b) => b.status === 'hooked' && !b.paused).length,
    inProgress: beads.filter((b) => b.status === 'in_progress').length,
    queued: beads.filter((b) => b.status === 'in_review' && !b.pr).length,
  };
}
