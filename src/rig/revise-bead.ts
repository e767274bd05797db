/**
 * Revision rounds, the one place their rule lives: a review asking for changes (the CLI's
 * `gt review --request-changes`, a GitHub review or `/gt revise`), failing CI, or a failed
 * Refinery gate sends a bead in review back to the polecat that made it, on the same branch:
 * `in_review → hooked` on that polecat, the feedback in its inbox (the runner puts it into
 * the agent's prompt), the round counted on the bead. Rounds are capped by the rig's
 * `maxRevisions`; past the cap the bead is labelled `gastown:needs-human`, the feed says why
 * and the convoy's owner gets mail. Text arrives sanitised by the surface that received it.
 */
import { GastownError } from '../errors.js';
import type { Transaction } from '../ledger/ledger.js';
import { feedRefs } from '../town/feed-refs.js';
import { checkBeadId } from '../town/ids.js';
import { transitionBead } from '../town/lifecycle.js';
import { countsAsRound, decideRevision, NEEDS_HUMAN_LABEL, REVISION_MAIL, withRevisionKey, type RevisionKind } from '../town/revision.js';
import type { Bead, Convoy, Hook } from '../town/types.js';
import { holdsBead } from './reconcile-hooks.js';
import type { Rig } from './rig.js';
import { firstLine, inbox, mailInTx } from './mail.js';

export interface RevisionRequest {
  /** Who asks (a login, `refinery`, `ci`); must already be checked for the right to ask. */
  by: string;
  kind: RevisionKind;
  /** The feedback (review body and inline comments, a log tail), already sanitised. */
  text: string;
  /** Identifies the request (a review or comment id): a second request under the same key changes nothing. */
  key?: string | null;
  /** No mail: the feedback is in the polecat's inbox already (a round that was queued). */
  quiet?: boolean;
}

export type RevisionOutcome =
  /** Back on its polecat's hook for round `round` (`pending`: the polecat holds other work; slung to it once free). */
  | { action: 'revise'; bead: Bead; polecat: string; round: number; pending: boolean }
  /** The polecat is working on it now: the feedback waits in its inbox and one more round follows. */
  | { action: 'queue'; bead: Bead; polecat: string | null }
  /** Rounds spent: labelled for a person, the convoy's owner told. */
  | { action: 'needs_human'; bead: Bead; rounds: number; owner: string }
  /** Already recorded (a redelivery). */
  | { action: 'duplicate'; bead: Bead };

/** Sends a bead in review back to its polecat (see the file comment). Idempotent on `key`. */
export async function requestRevision(rig: Rig, beadId: string, req: RevisionRequest): Promise<RevisionOutcome> {
  checkBeadId(beadId);
  return rig.ledger.transact(
    async (tx) => {
      const bead = await tx.get<Bead>('beads', beadId);
      if (!bead) throw new GastownError('gastown_not_found', `no bead ${beadId}`, { bead: beadId });
      return reviseInTx(rig, tx, bead, req);
    },
    { actor: req.by },
  );
}

/** The body of requestRevision, for callers that write more in the same transaction (the Refinery). */
export async function reviseInTx(rig: Rig, tx: Transaction, bead: Bead, req: RevisionRequest): Promise<RevisionOutcome> {
  const max = rig.settings.maxRevisions;
  const decision = decideRevision(bead, req.kind, max, req.key ?? null);
  if (decision.action === 'duplicate') return { action: 'duplicate', bead };
  const polecat = bead.assignee;
  const what = describe(req);
  if (decision.action === 'queue') {
    if (bead.status !== 'hooked' && bead.status !== 'in_progress')
      throw new GastownError(
        'gastown_illegal_transition',
        `Bead ${bead.id} is ${bead.status}; only a bead in review (or being revised) can be sent back.`,
        { bead: bead.id },
      );
    // The bead is written too (its keys), so this and the polecat's finishBead conflict and
    // one of them sees the other: finishBead starts the queued round from the unread mail.
    const next: Bead = { ...bead, revisionKeys: withRevisionKey(bead, req.key ?? null), updatedAt: rig.at() };
    tx.put('beads', bead.id, next, `revision queued beads/${bead.id}`);
    if (polecat) mailInTx(rig, tx, feedbackMail(bead, polecat, req, `${what} (queued: you are working on this bead)`));
    rig.emit(
      tx,
      'bead_updated',
      `${what} for ${bead.id} queued while ${polecat ?? 'its polecat'} works on it`,
      feedRefs(bead, bead.pr?.url ?? bead.issue?.url ?? null),
    );
    return { action: 'queue', bead: next, polecat };
  }
  if (decision.action === 'needs_human' || !polecat) {
    const rounds = bead.revisions ?? 0;
    const already = bead.labels.includes(NEEDS_HUMAN_LABEL);
    const next: Bead = {
      ...bead,
      labels: already ? bead.labels : [...bead.labels, NEEDS_HUMAN_LABEL],
      revisionPending: false,
      revisionKeys: withRevisionKey(bead, req.key ?? null),
      updatedAt: rig.at(),
    };
    tx.put('beads', bead.id, next, `needs a person beads/${bead.id}`);
    const owner = await convoyOwner(tx, bead);
    const why = polecat
      ? `${bead.id} needs a person: ${what} after ${rounds} revision round${rounds === 1 ? '' : 's'} (the cap is ${max})`
      : `${bead.id} needs a person: ${what}, and no polecat holds it`;
    rig.emit(tx, 'bead_updated', why, feedRefs(bead, bead.pr?.url ?? bead.issue?.url ?? null));
    if (!already)
      mailInTx(rig, tx, {
        from: rig.actor,
        to: owner,
        subject: `NEEDS_HUMAN ${bead.id}: ${bead.title}`.slice(0, 200),
        body: `${why}.\n\n${req.text}`.slice(0, 20_000),
        type: 'NEEDS_HUMAN',
        bead: bead.id,
      });
    return { action: 'needs_human', bead: next, rounds, owner };
  }
  const hook = await tx.get<Hook>('hooks', polecat);
  const onHook = hook?.bead && hook.bead !== bead.id ? await tx.get<Bead>('beads', hook.bead) : null;
  const busy = !!hook?.bead && hook.bead !== bead.id && holdsBead(hook, onHook);
  const patch: Partial<Bead> = {
    assignee: polecat,
    revisions: decision.round,
    approvedBy: null,
    // Each round has its own retry budget (attempts count runs within a round).
    attempts: 0,
    revisionKeys: withRevisionKey(bead, req.key ?? null),
  };
  let next: Bead;
  if (busy) {
    next = { ...bead, ...patch, revisionPending: true, updatedAt: rig.at() };
    tx.put('beads', bead.id, next, `revision pending beads/${bead.id}`);
  } else {
    next = transitionBead(bead, 'hooked', rig.at(), { ...patch, revisionPending: false });
    tx.put('beads', bead.id, next, `revise beads/${bead.id}`);
    tx.put<Hook>('hooks', polecat, { agent: polecat, bead: bead.id, slungAt: rig.at(), slungBy: req.by });
  }
  if (!req.quiet) mailInTx(rig, tx, feedbackMail(bead, polecat, req, what));
  const round = countsAsRound(req.kind) ? ` (round ${decision.round} of ${max})` : '';
  rig.emit(
    tx,
    busy ? 'bead_updated' : 'bead_slung',
    `${bead.id} sent back to ${polecat}${round}: ${what}${busy ? `; waits until ${polecat} is free` : ''}`,
    feedRefs(bead, bead.pr?.url ?? bead.issue?.url ?? null),
  );
  return { action: 'revise', bead: next, polecat, round: decision.round, pending: busy };
}

/** Approves a bead in review for the Refinery (rigs with `review: required`). Idempotent. */
export async function approveReview(rig: Rig, beadId: string, by: string): Promise<Bead> {
  checkBeadId(beadId);
  return rig.ledger.transact(
    async (tx) => {
      const bead = await tx.get<Bead>('beads', beadId);
      if (!bead) throw new GastownError('gastown_not_found', `no bead ${beadId}`, { bead: beadId });
      if (bead.status !== 'in_review')
        throw new GastownError('gastown_illegal_transition', `Bead ${beadId} is ${bead.status}; only a bead in review can be approved.`, {
          bead: beadId,
        });
      if (bead.approvedBy) return bead;
      const next: Bead = { ...bead, approvedBy: by, updatedAt: rig.at() };
      tx.put('beads', beadId, next, `approve beads/${beadId}`);
      rig.emit(tx, 'bead_updated', `${by} approved ${beadId}${bead.pr ? '' : ': queued for the Refinery'}`, feedRefs(bead));
      return next;
    },
    { actor: by },
  );
}

/**
 * Rounds owed to beads in review, started where possible (called before dispatch, locally and
 * on the forge): a bead sent back while its polecat held other work goes on that polecat's
 * hook once it is free; a bead whose polecat has unread feedback on it (a review that came
 * while a run elsewhere was revising it, merged in by a sync after that run finished) starts
 * the round that feedback asks for. Beads waiting for a person are left alone. Returns the
 * beads hooked.
 */
export async function resumePendingRevisions(rig: Rig, beads: readonly Bead[]): Promise<Bead[]> {
  const candidates = beads.filter((b) => b.status === 'in_review' && b.assignee && !b.labels.includes(NEEDS_HUMAN_LABEL));
  if (candidates.length === 0) return [];
  // Per polecat: the beads it has unread feedback on, and who sent the first of it.
  const unread = new Map<string, Map<string, string>>();
  for (const polecat of new Set(candidates.map((b) => b.assignee!))) {
    const mail = (await inbox(rig, polecat)).filter((m) => !m.read && m.type === REVISION_MAIL && m.bead);
    unread.set(polecat, new Map(mail.reverse().map((m) => [m.bead!, m.from] as const)));
  }
  const resumed: Bead[] = [];
  for (const candidate of candidates) {
    const from = unread.get(candidate.assignee!)?.get(candidate.id) ?? null;
    if (!candidate.revisionPending && !from) continue;
    const next = await rig.ledger.transact(
      async (tx) => {
        const bead = await tx.get<Bead>('beads', candidate.id);
        if (!bead || bead.status !== 'in_review' || !bead.assignee || bead.labels.includes(NEEDS_HUMAN_LABEL)) return null;
        const polecat = bead.assignee;
        if (!bead.revisionPending) {
          const out = await reviseInTx(rig, tx, bead, {
            by: from ?? rig.actor,
            kind: 'review',
            text: 'queued feedback in the inbox',
            quiet: true,
          });
          return out.action === 'revise' && !out.pending ? out.bead : null;
        }
        const hook = await tx.get<Hook>('hooks', polecat);
        const onHook = hook?.bead && hook.bead !== bead.id ? await tx.get<Bead>('beads', hook.bead) : null;
        if (hook?.bead && hook.bead !== bead.id && holdsBead(hook, onHook)) return null;
        const hooked = transitionBead(bead, 'hooked', rig.at(), { assignee: polecat, revisionPending: false });
        tx.put('beads', bead.id, hooked, `revise beads/${bead.id}`);
        tx.put<Hook>('hooks', polecat, { agent: polecat, bead: bead.id, slungAt: rig.at(), slungBy: rig.actor });
        rig.emit(tx, 'bead_slung', `${bead.id} back on ${polecat}'s hook for its revision round ${bead.revisions ?? 0}`, feedRefs(bead));
        return hooked;
      },
      { actor: rig.actor },
    );
    if (next) resumed.push(next);
  }
  return resumed;
}

function describe(req: RevisionRequest): string {
  const head = firstLine(req.text);
  const label =
    req.kind === 'review'
      ? `changes requested by ${req.by}`
      : req.kind === 'ci'
        ? 'CI failed'
        : req.kind === 'gate'
          ? 'the gate failed'
          : 'the branch conflicts';
  return head && req.kind !== 'review' ? `${label}: ${head}` : label;
}

function feedbackMail(bead: Bead, polecat: string, req: RevisionRequest, what: string) {
  return {
    from: req.by,
    to: polecat,
    subject: `${REVISION_MAIL} ${bead.id}: ${what}`.slice(0, 200),
    body: `${req.kind} feedback on ${bead.branch ?? bead.id}:\n\n${req.text}`.slice(0, 20_000),
    type: REVISION_MAIL,
    bead: bead.id,
  };
}

async function convoyOwner(tx: Transaction, bead: Bead): Promise<string> {
  if (!bead.convoy) return 'mayor';
  const convoy = await tx.get<Convoy>('convoys', bead.convoy);
  return convoy?.source?.requestedBy || 'mayor';
}
