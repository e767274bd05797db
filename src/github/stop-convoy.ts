/**
 * `/gt stop` on a parent issue: a person with write access stops the issue's convoy. Nothing
 * more is slung; beads in flight go back to open and their runners lose the lease.
 */
import type { RepoServices } from './app-deps.js';
import type { Delivery } from './delivery.js';
import { parentKey } from './delivery.js';
import { ensureStatus } from './materialise-convoy.js';
import { senderMayWrite } from './permission.js';
import { describeError } from './report-failure.js';

export type StopOutcome = 'refused' | 'no_convoy' | 'stopped' | 'failed';

export async function stopConvoy(delivery: Delivery, services: RepoServices): Promise<StopOutcome> {
  const { forge, target, log } = delivery;
  if (!(await senderMayWrite(delivery, 'stop a convoy'))) return 'refused';
  const found = await services.town.convoyFor(parentKey(target));
  if (found === null) {
    await forge.comment(target.issue.number, 'There is no Gas Town convoy on this issue to stop.');
    return 'no_convoy';
  }
  try {
    const stopped = await services.town.stop(found.convoy.id, target.sender);
    log.info({ convoy: found.convoy.id, by: target.sender }, 'Convoy stopped');
    await ensureStatus(delivery, services, stopped);
    await forge.comment(
      target.issue.number,
      `Stopped convoy \`${found.convoy.id}\` at the request of @${target.sender}: no more beads will be started, and work in flight was taken off its polecats' hooks.`,
    );
    return 'stopped';
  } catch (err) {
    const failure = describeError(err);
    log.warn({ ...failure, convoy: found.convoy.id }, 'Could not stop the convoy');
    await forge.comment(
      target.issue.number,
      `Gas Town could not stop convoy \`${found.convoy.id}\` (\`${failure.code}\`): ${failure.message}`,
    );
    return 'failed';
  }
}
