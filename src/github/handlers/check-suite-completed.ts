/**
 * `check_suite.completed` with a failure on the head commit of a polecat's pull request: one
 * revision round with the failing jobs' logs (github/ci-failure.ts). Suites that passed, this
 * app's own checks, other branches and commits that are no longer the pull request's head
 * are ignored before anything is read.
 */
import type { Context } from 'probot';
import { parsePolecatBranch } from '../../town/ids.js';
import type { AppDeps } from '../app-deps.js';
import type { AppMemory } from '../app-memory.js';
import { reviseOnFailedChecks } from '../ci-failure.js';
import { repositoryDelivery } from '../pull-request-delivery.js';

const FAILED = new Set(['failure', 'timed_out']);

export function checkSuiteCompleted(deps: AppDeps, memory?: AppMemory) {
  return async (context: Context<'check_suite.completed'>): Promise<void> => {
    const suite = context.payload.check_suite;
    if (suite.status !== 'completed' || !FAILED.has(suite.conclusion ?? '')) return;
    if (deps.appId && suite.app?.id === deps.appId) return;
    const polecat = parsePolecatBranch(suite.head_branch ?? '');
    const pr = suite.pull_requests.find((p) => p.head.ref === suite.head_branch && p.head.sha === suite.head_sha);
    if (!polecat || !pr) return;
    const found = await repositoryDelivery(context, deps, memory);
    if (found === null) return;
    const outcome = await reviseOnFailedChecks(found, deps, {
      suiteId: suite.id,
      headSha: suite.head_sha,
      pr: pr.number,
      bead: polecat.bead,
    });
    context.log.info({ pr: pr.number, bead: polecat.bead, suite: suite.id, outcome }, 'Handled failed checks on a polecat pull request');
  };
}
