/**
 * `/gt approve` on a parent issue: a person with write access releases a convoy that waits
 * for approval; the child issues are then created. Approving an approved convoy re-runs the
 * idempotent materialisation, which is how a person nudges a half-finished one along.
 */
import type { RepoServices } from './app-deps.js';
import type { Delivery } from './delivery.js';
import { dispatchBeads } from './dispatch-beads.js';
import { parentKey } from './delivery.js';
import { materialiseConvoy } from './materialise-convoy.js';
import { senderMayWrite } from './permission.js';
import type { RecordedConvoy } from '../rig/town-service.js';
import { reportFailure } from './report-failure.js';

export type ApproveOutcome = 'refused' | 'no_convoy' | 'materialised' | 'failed';

export async function approveConvoy(delivery: Delivery, services: RepoServices): Promise<ApproveOutcome> {
  const { forge, target, log } = delivery;
  if (!(await senderMayWrite(delivery, 'approve a plan'))) return 'refused';

  let recorded: RecordedConvoy | null = null;
  try {
    recorded = await services.town.convoyFor(parentKey(target));
    if (recorded === null) {
      await forge.comment(target.issue.number, 'There is no Gas Town plan on this issue to approve yet.');
      return 'no_convoy';
    }
    if (recorded.convoy.status === 'awaiting_approval') {
      recorded = await services.town.approve(recorded.convoy.id, target.sender);
      log.info({ convoy: recorded.convoy.id, by: target.sender }, 'Convoy approved');
    }
    await materialiseConvoy(delivery, services, recorded, () => dispatchBeads(delivery, services));
    return 'materialised';
  } catch (err) {
    await reportFailure(delivery, services, err, recorded);
    return 'failed';
  }
}
