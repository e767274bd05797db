/**
 * Ledger writes made in one clone pushed to the ledger's remote at once, with the remote as
 * the judge: one compare-and-swap there, every ref written, atomically, each with
 * `--force-with-lease=<ref>:<the value the write replaced>`. A claim (publish-claim.ts) and a
 * turn of a budgeted convoy (budget-check.ts) go out this way. When the remote moved
 * meanwhile (another runner wrote first, or this clone was behind), the caller undoes its
 * local write (`undoRefs`), syncs and decides again.
 */
import { GastownError } from '../../errors.js';
import { redact, runGit } from '../../ledger/run-git.js';
import { currentOwnSummary, summaryUpdate } from '../../ledger/sync-summary.js';
import type { Rig } from '../../rig/rig.js';
import type { ClaimedRef } from '../../rig/work.js';

export type PublishVerdict = 'published' | 'raced';

/** Pushes `refs` (each from its `before` to its `after`) to `remote` in one atomic, leased push; `what` names them in errors. */
export async function publishRefs(rig: Rig, remote: string, refs: readonly ClaimedRef[], what: string): Promise<PublishVerdict> {
  if (!refs.length) return 'published';
  // The clone's summary ref moves in the same atomic push, so other clones' syncs see the
  // write (ledger/sync-summary.ts); a stale value of it fails the push like a lost race.
  const summary = summaryUpdate(
    rig.ledger,
    await currentOwnSummary(rig.ledger, remote),
    refs.map((r) => r.ref),
  );
  const leases = [
    ...refs.map((r) => `--force-with-lease=${r.ref}:${r.before ?? ''}`),
    `--force-with-lease=${summary.ref}:${summary.expect ?? ''}`,
  ];
  // No `+` on the refspecs: git lets a forcing refspec override the lease (2.39 pushes `+x:ref`
  // over any remote value); without it the lease alone decides, and allows the one update expected.
  const specs = [...refs.map((r) => `${r.after}:${r.ref}`), `${summary.oid}:${summary.ref}`];
  const { stdout, stderr, code } = await runGit(['push', '--atomic', '--porcelain', '--no-verify', ...leases, remote, ...specs], {
    cwd: rig.repoDir,
    okCodes: [1],
  });
  if (code === 0) return 'published';
  const statuses = stdout
    .toString('utf8')
    .split('\n')
    .map((line) => /^(.)\t[^\t]+\t(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => !!m && m[1] === '!')
    .map((m) => m[2]!);
  // A lease the remote no longer matches, or the atomic push failing because of such a ref:
  // another runner got there first (or this clone is behind). Anything else is a refusal a
  // retry would meet again (a hook, a protected ref, no access).
  const raced = (s: string) =>
    /^\[rejected\]|stale info|atomic|^\[remote rejected\] \((?:failed to update ref|cannot lock ref|incorrect old value|failed to lock)/.test(
      s,
    );
  if (statuses.length && statuses.every(raced)) return 'raced';
  const why = statuses.find((s) => !raced(s)) ?? stderr.trim().split('\n')[0] ?? `git push exited ${code}`;
  throw new GastownError('gastown_sync', redact(`cannot publish ${what} to ${redact(remote)}: ${why}`).slice(0, 2000));
}

/**
 * Undoes a local write the remote did not take: each ref goes back to its value before
 * (compare-and-swap from the written value, so nothing written since is lost). False when a
 * ref moved meanwhile. The next sync then brings the remote's value in by fast-forward.
 */
export function undoRefs(rig: Rig, refs: readonly ClaimedRef[]): Promise<boolean> {
  return rig.ledger.setRefs(refs.map((r) => ({ ref: r.ref, oldOid: r.after, newOid: r.before })));
}
