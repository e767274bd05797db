/**
 * `/gt estop` on an issue (writers only): the emergency stop for the repository's town
 * (`emergency-stop.ts`, which Slack's `/gt estop` reaches too), answered on the issue.
 * `/gt estop release` lifts it and dispatches again.
 */
import type { RepoServices } from './app-deps.js';
import type { Delivery } from './delivery.js';
import { emergencyStop } from './emergency-stop.js';
import { senderMayWrite } from './permission.js';
import { describeError } from './report-failure.js';

export type EstopOutcome = 'refused' | 'engaged' | 'released' | 'bad_input' | 'failed';

export async function estopCommand(delivery: Delivery, services: RepoServices, args = ''): Promise<EstopOutcome> {
  const { forge, target, log, config } = delivery;
  const release = /^release$/i.test(args);
  if (args && !release) {
    await forge.comment(target.issue.number, '`/gt estop` stops every polecat; `/gt estop release` lets them resume.');
    return 'bad_input';
  }
  if (!(await senderMayWrite(delivery, 'use the emergency stop'))) return 'refused';
  try {
    const r = await emergencyStop(delivery, services, !release, target.sender);
    if (release) {
      await forge.comment(target.issue.number, `Emergency stop released by @${target.sender}: polecats are dispatched again.`);
      log.info({ by: target.sender }, 'Emergency stop released');
      return 'released';
    }
    const cancelled = r.cancelled;
    log.info({ by: target.sender, cancelled }, 'Emergency stop engaged');
    await forge.comment(
      target.issue.number,
      `Emergency stop engaged by @${target.sender}: nothing more is slung or dispatched${cancelled.length ? `, and ${cancelled.length} polecat run${cancelled.length === 1 ? ' was' : 's were'} cancelled` : ''}. \`/gt estop release\` resumes.`,
    );
    return 'engaged';
  } catch (err) {
    const failure = describeError(err);
    log.warn({ ...failure }, 'Emergency stop failed');
    await forge.comment(
      target.issue.number,
      `Gas Town could not ${release ? 'release' : 'engage'} the emergency stop (\`${failure.code}\`): ${failure.message}`,
    );
    return 'failed';
  }
}
