/**
 * `check_run.completed` with a failure on the head commit of a polecat's pull request: the same
 * CI round as `check_suite.completed` (github/ci-failure.ts), under the same key `ci:<sha>`, so a
 * suite and its failing runs make one round, whichever arrives first. GitHub sends each run's
 * completion while the rest of its suite may still be running: acting on the first failure
 * spares the polecat the wait. Runs that passed or are still running, this app's own checks,
 * other branches and commits that are no longer the pull request's head are ignored before
 * anything is read.
 */
import type { Context } from 'probot';
import { parsePolecatBranch } from '../../town/ids.js';
import type { AppDeps } from '../app-deps.js';
import type { AppMemory } from '../app-memory.js';
import { reviseOnFailedChecks } from '../ci-failure.js';
import { repositoryDelivery } from '../pull-request-delivery.js';

const FAILED = new Set(['failure', 'timed_out']);

export function checkRunCompleted(deps: AppDeps, memory?: AppMemory) {
  return async (context: Context<'check_run.completed'>): Promise<void> => {
    const run = context.payload.check_run;
    if (run.status !== 'completed' || !FAILED.has(run.conclusion ?? '')) return;
    if (deps.appId && (run.app?.id === deps.appId || run.check_suite?.app?.id === deps.appId)) return;
    const branch = run.check_suite?.head_branch ?? '';
    const polecat = parsePolecatBranch(branch);
    const pulls = [...(run.pull_requests ?? []), ...(run.check_suite?.pull_requests ?? [])];
    const pr = pulls.find((p) => p.head.ref === branch && p.head.sha === run.head_sha);
    const suiteId = run.check_suite?.id;
    if (!polecat || !pr || !suiteId) return;
    const found = await repositoryDelivery(context, deps, memory);
    if (found === null) return;
    const outcome = await reviseOnFailedChecks(found, deps, {
      suiteId,
      headSha: run.head_sha,
      pr: pr.number,
      bead: polecat.bead,
    });
    context.log.info({ pr: pr.number, bead: polecat.bead, run: run.id, outcome }, 'Handled a failed check run on a polecat pull request');
  };
}
