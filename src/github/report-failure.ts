/**
 * The error boundary of the plan and approve flows: one clear comment on the parent (the
 * status comment when a convoy exists, else one failure comment kept by its marker), the
 * failed label, and a ledger record. Each step is tried on its own: GitHub being down must
 * not keep the failure from the ledger, nor the reverse.
 */
import { isGastownError } from '../errors.js';
import { failureMarker } from '../town/ids.js';
import type { Delivery } from './delivery.js';
import { parentKey } from './delivery.js';
import { ensureStatus } from './materialise-convoy.js';
import type { RecordedConvoy } from '../rig/town-service.js';
import type { RepoServices } from './app-deps.js';
import { blockText } from '../forge/markdown-text.js';

/** A message safe to show: coded errors say what happened; anything else stays in the log. */
export function describeError(err: unknown): { code: string; message: string } {
  if (isGastownError(err)) return { code: err.code, message: err.message };
  // An Octokit error that escaped the forge (e.g. while reading context): status only.
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number') return { code: 'gastown_forge', message: `A GitHub request failed (HTTP ${status}).` };
  return { code: 'gastown_internal', message: 'An unexpected error stopped the run; the app log has the details.' };
}

export function renderFailureComment(issueNumber: number, failure: { code: string; message: string }, mayorLabel: string): string {
  // Multi-line messages (a list of config problems) stay a list inside the quote.
  const message = blockText(failure.message)
    .split('\n')
    .map((line) => `> ${line}`);
  return [
    failureMarker(issueNumber),
    '> [!CAUTION]',
    `> Gas Town could not plan this issue (\`${failure.code}\`):`,
    ...message,
    '>',
    `> Fix the cause, then remove and re-add the \`${mayorLabel}\` label to retry.`,
    '',
  ].join('\n');
}

export async function reportFailure(
  delivery: Delivery,
  services: Pick<RepoServices, 'town'>,
  err: unknown,
  recorded: RecordedConvoy | null,
): Promise<void> {
  const { forge, config, target, log } = delivery;
  const failure = describeError(err);
  const status = (err as { details?: { status?: unknown } }).details?.status;
  log.error({ code: failure.code, status, issue: target.issue.number, convoy: recorded?.convoy.id }, 'Planning failed');
  if (!isGastownError(err)) log.error({ err }, 'Unexpected error while planning');

  const attempt = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (stepErr) {
      log.warn({ step: what, code: describeError(stepErr).code }, 'Failure report step failed');
    }
  };
  await attempt('comment', async () => {
    if (recorded === null) {
      return forge.ensureStatusComment(target.issue.number, renderFailureComment(target.issue.number, failure, config.labels.mayor));
    }
    // Re-read: the ledger holds the links recorded before the failure, the caller's copy does not.
    const latest = (await services.town.convoyFor(parentKey(target))) ?? recorded;
    return ensureStatus(delivery, services, latest, failure);
  });
  await attempt('label', () => forge.setLabels(target.issue.number, { add: [config.labels.failed] }));
  await attempt('ledger', () =>
    services.town.recordPlanFailure({
      sourceKey: parentKey(target),
      convoyId: recorded?.convoy.id ?? null,
      code: failure.code,
      message: failure.message,
    }),
  );
}
