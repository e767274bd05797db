/**
 * A writer's comment on a planned issue that is not a command: the issue's comments are the
 * conversation with the Mayor, and this one asks it to re-plan what has not started
 * (`TownService.replan`, rig/replan-convoy.ts). Ledger first, then GitHub: cancelled beads'
 * issues closed as not planned, edited ones' titles and bodies, dropped blocked-by edges
 * removed, new beads materialised as sub-issues with their edges (when the convoy does not
 * wait for approval), the status comment re-rendered, and one reply saying what changed or
 * why nothing could. The reply carries a hidden marker naming the comment, so a redelivery
 * edits it rather than adding another; a redelivered comment re-plans nothing.
 */
import { GastownError, isGastownError } from '../errors.js';
import { renderBeadIssueBody, renderBeadIssueTitle } from '../forge/render-bead-issue.js';
import { NO_CHECKLIST } from '../mayor/replanner.js';
import { sanitizeUntrustedText } from '../mayor/sanitize.js';
import type { RecordedConvoy, ReplanOutcome } from '../rig/town-service.js';
import type { BlockedByEdge } from '../forge/forge-port.js';
import type { ForgeLink } from '../town/types.js';
import type { RepoServices } from './app-deps.js';
import type { Delivery } from './delivery.js';
import { parentKey } from './delivery.js';
import { dispatchBeads } from './dispatch-beads.js';
import { gatherContext } from './gather-context.js';
import { ensureStatus, materialiseConvoy } from './materialise-convoy.js';
import { permissionLookup } from './permission.js';
import { renderReplanReply } from './render-replan-reply.js';
import { reportFailure } from './report-failure.js';

const CAN_CHANGE = new Set(['active', 'awaiting_approval']);
const TASK_LINE = /^[ \t]*[-*+][ \t]+\[[ xX]\][ \t]+\S/m;

export type ReplanIssueOutcome = 'not_planned' | 'no_checklist' | 'failed' | ReplanOutcome['status'];

export async function replanIssue(
  delivery: Delivery,
  services: RepoServices,
  comment: { id: number; body: string },
): Promise<ReplanIssueOutcome> {
  const { forge, config, target, log, octokit } = delivery;
  const found = await services.town.convoyFor(parentKey(target));
  if (found === null) return 'not_planned';
  const parent: ForgeLink = { number: target.issue.number, id: target.issue.id, url: target.issue.url };
  if (!CAN_CHANGE.has(found.convoy.status) && !TASK_LINE.test(comment.body)) {
    // A remark on a convoy that landed or stopped ("thanks!") is no request: no reply. A
    // checklist there is one, and its reply says why nothing can change.
    log.info(
      { comment: comment.id, convoy: found.convoy.id, status: found.convoy.status },
      'A comment on a finished convoy: nothing to re-plan',
    );
    return 'refused';
  }

  let outcome: ReplanOutcome;
  try {
    outcome = await services.town.replan(found.convoy.id, {
      key: `comment:${comment.id}`,
      instruction: sanitizeUntrustedText(comment.body),
      by: target.sender,
      maxBeads: config.maxBeads,
      requireApproval: config.requireApproval,
      replanner: services.mayor.replanner({
        planner: config.planner,
        model: config.model,
        // The issue's conversation, as planning reads it (writers' comments quoted, all sanitised).
        context: () =>
          gatherContext(
            octokit,
            target.owner,
            target.repo,
            target.issue,
            (comments) => forge.prime?.(target.issue.number, { comments }),
            permissionLookup(octokit, target.owner, target.repo),
            log,
          ),
      }),
    });
  } catch (err) {
    if (isGastownError(err) && err.details?.[NO_CHECKLIST] === true) {
      // Without a model only a checklist is an instruction: a writer's remark stays a remark.
      log.info({ comment: comment.id }, 'A comment without a checklist on a planned issue: nothing to re-plan');
      return 'no_checklist';
    }
    log.warn({ comment: comment.id, code: isGastownError(err) ? err.code : 'unexpected' }, 'Re-planning failed');
    await reply(delivery, renderReplanReply({ comment: comment.id, by: target.sender, error: failureText(err) }));
    return 'failed';
  }
  log.info(
    {
      comment: comment.id,
      status: outcome.status,
      added: outcome.added.length,
      changed: outcome.changed.length,
      cancelled: outcome.cancelled.length,
    },
    'Re-planned a convoy from a comment',
  );
  const redelivered = outcome.status === 'already';
  if (redelivered && outcome.added.length + outcome.changed.length + outcome.cancelled.length === 0) {
    // A redelivery of a comment that changed nothing: only finish new beads' issues, if any.
    if (outcome.convoy.status === 'active' && !outcome.convoy.materialisedAt)
      await mirror(delivery, services, { convoy: outcome.convoy, beads: outcome.beads });
    return 'already';
  }
  // A first delivery, or a redelivery after a crash or a GitHub failure between the ledger
  // write and GitHub: the same lists (the convoy's replanLog) and the same steps, each an
  // ensure, so what was done is not done twice and what was not is done now.
  if (outcome.status === 'replanned' || redelivered) {
    let recorded: RecordedConvoy = { convoy: outcome.convoy, beads: outcome.beads };
    try {
      await services.publish();
      for (const b of outcome.cancelled) if (b.issue) await forge.closeIssue(b.issue.number, 'not_planned');
      for (const b of outcome.changed)
        if (b.issue) await forge.ensureIssueText(b.issue.number, { title: renderBeadIssueTitle(b), body: renderBeadIssueBody(b, parent) });
      await forge.removeBlockedBy(droppedEdges(outcome));
      recorded = await mirror(delivery, services, recorded);
    } catch (err) {
      await reportFailure(delivery, services, err, recorded);
      return 'failed';
    }
    outcome = { ...outcome, ...withIssues(outcome, recorded) };
  }
  // A redelivery says what the re-plan did, as the first delivery did (or would have).
  const said = redelivered ? { ...outcome, status: 'replanned' as const } : outcome;
  await reply(delivery, renderReplanReply({ comment: comment.id, by: target.sender, outcome: said }));
  return outcome.status;
}

/** The convoy onto GitHub: the idempotent materialisation when it may run, else the status comment alone. */
async function mirror(delivery: Delivery, services: RepoServices, recorded: RecordedConvoy): Promise<RecordedConvoy> {
  if (recorded.convoy.status !== 'active') {
    await ensureStatus(delivery, services, recorded);
    return recorded;
  }
  return materialiseConvoy(delivery, services, recorded, () => dispatchBeads(delivery, services));
}

/**
 * Edges GitHub may still show that the revision dropped: from each edited bead to every other
 * bead of the convoy (cancelled ones too) that it no longer waits on. The forge removes only
 * those it finds.
 */
function droppedEdges(outcome: ReplanOutcome): BlockedByEdge[] {
  const others = [...outcome.beads, ...outcome.cancelled];
  return outcome.changed.flatMap((b) =>
    b.issue
      ? others.flatMap((o) => (o.id !== b.id && o.issue && !b.blockedBy.includes(o.id) ? [{ child: b.issue!, blocker: o.issue }] : []))
      : [],
  );
}

/** The outcome's beads with the issues materialising gave them. */
function withIssues(outcome: ReplanOutcome, recorded: RecordedConvoy): Pick<ReplanOutcome, 'added' | 'changed' | 'beads'> {
  const byId = new Map(recorded.beads.map((b) => [b.id, b] as const));
  const fresh = <T extends { id: string }>(list: T[]): T[] => list.map((b) => (byId.get(b.id) as T | undefined) ?? b);
  return { added: fresh(outcome.added), changed: fresh(outcome.changed), beads: fresh(outcome.beads) };
}

/** The reply is found again by its marker (the comment's id): a redelivery edits it, never adds one. */
async function reply(delivery: Delivery, markdown: string): Promise<void> {
  await delivery.forge.ensureStatusComment(delivery.target.issue.number, markdown);
}

function failureText(err: unknown): string {
  // Only our own coded messages are meant for people; anything else may carry internals.
  return err instanceof GastownError ? err.message : 'an unexpected error (the app log has the details)';
}
