/**
 * `/gt budget <amount>` on a parent issue (writers only): sets (`$20`) or raises (`+$5`) the
 * budget of the issue's convoy. Beads paused for it resume and are dispatched again.
 */
import type { RepoServices } from './app-deps.js';
import type { Delivery } from './delivery.js';
import { parentKey } from './delivery.js';
import { dispatchBeads } from './dispatch-beads.js';
import { ensureStatus } from './materialise-convoy.js';
import { senderMayWrite } from './permission.js';
import { describeError } from './report-failure.js';
import { budgetText, spentText } from '../town/costs.js';

export type BudgetOutcome = 'refused' | 'no_convoy' | 'changed' | 'failed';

export async function budgetCommand(delivery: Delivery, services: RepoServices, args = ''): Promise<BudgetOutcome> {
  const { forge, target, log } = delivery;
  if (!(await senderMayWrite(delivery, 'change a budget'))) return 'refused';
  const found = await services.town.convoyFor(parentKey(target));
  if (found === null) {
    await forge.comment(target.issue.number, 'There is no Gas Town convoy on this issue to budget.');
    return 'no_convoy';
  }
  try {
    const r = await services.town.budget(found.convoy.id, args, target.sender);
    log.info({ convoy: r.convoy.id, budget: r.convoy.budget, resumed: r.resumed, by: target.sender }, 'Convoy budget changed');
    await services.publish();
    if (r.resumed.length) await dispatchBeads(delivery, services);
    const recorded = await services.town.convoy(r.convoy.id);
    if (recorded) await ensureStatus(delivery, services, recorded);
    await forge.comment(
      target.issue.number,
      `Budget of convoy \`${r.convoy.id}\` is now ${budgetText(r.convoy.budget)} (@${target.sender}); spent ${spentText(r.spent, r.convoy.budget)}.${r.resumed.length ? ` Resumed ${r.resumed.map((b) => `\`${b}\``).join(', ')}.` : ''}`,
    );
    return 'changed';
  } catch (err) {
    const failure = describeError(err);
    log.warn({ ...failure, convoy: found.convoy.id }, 'Could not change the budget');
    await forge.comment(target.issue.number, `Gas Town could not change the budget (\`${failure.code}\`): ${failure.message}`);
    return 'failed';
  }
}
