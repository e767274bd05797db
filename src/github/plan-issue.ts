/**
 * Flow 1 (plan) on GitHub:
 *   1. the sender must have write access (else one polite comment, the Mayor label removed);
 *   2. a convoy already recorded for this issue is reused (redelivery, retry after a failure);
 *      otherwise gather context, ask the Mayor, and record the plan in the ledger — before
 *      anything is written to GitHub;
 *   3. a convoy awaiting approval gets only its status comment (with how to approve);
 *   4. otherwise materialise: child issues, sub-issue links, blocked-by edges, status comment;
 *   5. dispatch the ready beads (flow 2).
 * Any failure after step 1 ends in one comment, the failed label and a ledger record.
 */
import { parseBudget } from '../town/costs.js';
import type { RepoServices } from './app-deps.js';
import type { Delivery } from './delivery.js';
import { dispatchBeads } from './dispatch-beads.js';
import { parentKey } from './delivery.js';
import { gatherContext } from './gather-context.js';
import { ensureStatus, materialiseConvoy } from './materialise-convoy.js';
import { hasWrite } from '../town/permissions.js';
import { permissionLookup, type PermissionLookup } from './permission.js';
import type { RecordedConvoy } from '../rig/town-service.js';
import { statusCommentOf } from './github-keys.js';
import { reportFailure } from './report-failure.js';

export type PlanOutcome = 'refused' | 'awaiting_approval' | 'materialised' | 'failed';

export async function planIssue(delivery: Delivery, services: RepoServices): Promise<PlanOutcome> {
  const { octokit, forge, config, target, log } = delivery;
  // One lookup per delivery: the sender's answer is reused if they also commented.
  const permissionOf = permissionLookup(octokit, target.owner, target.repo);
  const level = await permissionOf(target.sender);
  if (!hasWrite(level)) {
    log.info({ sender: target.sender, level }, 'Refused to plan: sender lacks write access');
    await forge.comment(
      target.issue.number,
      `Thanks for the interest, @${target.sender}! Only people with write access to this repository can ` +
        `ask Gas Town to plan an issue, so I have removed the \`${config.labels.mayor}\` label. ` +
        'A maintainer can add it again.',
    );
    if (target.issue.labels.includes(config.labels.mayor)) {
      await forge.setLabels(target.issue.number, { remove: [config.labels.mayor] });
    }
    return 'refused';
  }

  let recorded: RecordedConvoy | null = null;
  try {
    recorded = (await services.town.convoyFor(parentKey(target))) ?? (await planAndRecord(delivery, services, permissionOf));
    if (recorded.convoy.status === 'awaiting_approval') {
      await ensureStatus(delivery, services, recorded);
      return 'awaiting_approval';
    }
    await materialiseConvoy(delivery, services, recorded, () => dispatchBeads(delivery, services));
    return 'materialised';
  } catch (err) {
    await reportFailure(delivery, services, err, recorded);
    return 'failed';
  }
}

async function planAndRecord(delivery: Delivery, services: RepoServices, permissionOf: PermissionLookup): Promise<RecordedConvoy> {
  const { octokit, config, target, log, forge } = delivery;
  const context = await gatherContext(
    octokit,
    target.owner,
    target.repo,
    target.issue,
    (comments) => forge.prime?.(target.issue.number, { comments }),
    permissionOf,
    log,
  );
  const result = await services.mayor.plan({
    ...context,
    repo: `${target.owner}/${target.repo}`,
    planner: config.planner,
    model: config.model,
    maxBeads: config.maxBeads,
  });
  log.info({ beads: result.plan.beads.length, planner: result.planner }, 'Mayor planned the issue');
  const recorded = await services.town.recordPlan({
    sourceKey: parentKey(target),
    title: context.goal.title,
    source: {
      kind: 'github',
      repo: `${target.owner}/${target.repo}`,
      issue: { number: target.issue.number, id: target.issue.id, url: target.issue.url },
      goal: context.goal.title,
      requestedBy: target.sender,
    },
    plan: result.plan,
    planner: result.planner,
    usage: result.usage,
    requireApproval: config.requireApproval,
    maxBeads: config.maxBeads,
    budget: config.budget ? parseBudget(config.budget).budget : null,
    maxBudget: config.maxConvoyBudget ? parseBudget(config.maxConvoyBudget).budget : null,
  });
  // The plan reaches the repository's ledger before anything is written to GitHub.
  await services.publish();
  // Recorded by this delivery and not yet mirrored anywhere: it has no sub-issues to list.
  if (!recorded.convoy.materialisedAt && statusCommentOf(recorded.convoy) === null && recorded.beads.every((b) => !b.issue))
    forge.prime?.(target.issue.number, { children: 'none' });
  return recorded;
}
