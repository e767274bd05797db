/**
 * Flow 2 of the revision loop on GitHub: the checks on a polecat pull request's head commit
 * concluded failure. The failing jobs' logs (the failing step's tail, cleaned: ci-log.ts) go
 * to the polecat as one revision round, counted with reviews against `maxRevisions`, through
 * the same requestRevision; the run is dispatched again. One round per head commit, however
 * many times GitHub reports it (`ci:<sha>` is the request's key).
 */
import { NEEDS_HUMAN_LABEL } from '../town/revision.js';
import type { AppDeps, RepoScope } from './app-deps.js';
import type { PullRequestDelivery } from './advance-bead.js';
import { failingStepTail } from './ci-log.js';
import { dispatchBeads } from './dispatch-beads.js';

export interface FailedChecks {
  suiteId: number;
  headSha: string;
  pr: number;
  bead: string;
}

export type CiOutcome = 'not_ours' | 'stale' | 'duplicate' | 'revise' | 'pending' | 'queue' | 'needs_human';

/** Jobs whose logs are read, and the size of all of them together. */
const MAX_JOBS = 3;
const MAX_TEXT = 16_000;

export async function reviseOnFailedChecks(
  found: { delivery: PullRequestDelivery; scope: RepoScope },
  deps: AppDeps,
  failed: FailedChecks,
): Promise<CiOutcome> {
  const { delivery } = found;
  const key = `ci:${failed.headSha}`;
  return deps.withRepo({ ...found.scope, actor: 'ci' }, async (services) => {
    const bead = await services.town.bead(failed.bead);
    if (!bead || bead.pr?.number !== failed.pr) return 'not_ours';
    if (bead.revisionKeys?.includes(key)) return 'duplicate';
    // Being revised already (or merged, or closed): a failure of an older commit asks for nothing.
    if (bead.status !== 'in_review') return 'stale';
    const text = await failedJobsText(delivery, failed.suiteId);
    const out = await services.town.requestRevision(bead.id, { by: 'ci', kind: 'ci', text, key });
    if (out.action === 'revise' && !out.pending) await dispatchBeads(delivery, services);
    if (out.action === 'needs_human') await delivery.forge.setLabels(failed.pr, { add: [NEEDS_HUMAN_LABEL] });
    return out.action === 'revise' && out.pending ? 'pending' : out.action;
  });
}

/** `### <job> (<conclusion>)` and the cleaned tail of its log, for each failing job of the suite. */
async function failedJobsText(delivery: PullRequestDelivery, suiteId: number): Promise<string> {
  const { octokit, owner, repo, log } = delivery;
  const { data } = await octokit.rest.checks.listForSuite({ owner, repo, check_suite_id: suiteId, filter: 'latest', per_page: 100 });
  const failing = data.check_runs.filter((r) => r.status === 'completed' && (r.conclusion === 'failure' || r.conclusion === 'timed_out'));
  const parts: string[] = [`CI failed on this branch: ${failing.map((r) => r.name).join(', ') || 'a check'}.`];
  for (const run of failing.slice(0, MAX_JOBS)) {
    let tail: string;
    try {
      const res = await octokit.rest.actions.downloadJobLogsForWorkflowRun({ owner, repo, job_id: run.id });
      const raw = typeof res.data === 'string' ? res.data : Buffer.from(res.data as ArrayBuffer).toString('utf8');
      tail = failingStepTail(raw);
    } catch (err) {
      log.warn({ job: run.id, status: (err as { status?: number }).status }, "Could not read a failing job's log");
      tail = '(the log could not be read)';
    }
    parts.push(`### ${run.name} (${run.conclusion})\n\n\`\`\`\n${tail.replaceAll('```', "'''")}\n\`\`\``);
  }
  if (failing.length > MAX_JOBS) parts.push(`(${failing.length - MAX_JOBS} more failing jobs not shown)`);
  const text = parts.join('\n\n');
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}\n…` : text;
}
