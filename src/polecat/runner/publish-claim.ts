/**
 * A claim made in one clone is pushed to the ledger's remote before its agent starts, so a
 * runner in another clone (another Actions job for the same bead, another `gt runner`) sees
 * it at once instead of at the first one's final sync. The push is one compare-and-swap on
 * the remote: every ref the claim wrote, atomically, each with `--force-with-lease=<ref>:<the
 * value the claim replaced>`. When the remote moved meanwhile (another runner claimed first,
 * or this clone was behind), the local claim is undone and the runner syncs and looks again.
 */
import { GastownError } from '../../errors.js';
import { redact, runGit } from '../../ledger/run-git.js';
import { currentOwnSummary, summaryUpdate } from '../../ledger/sync-summary.js';
import type { Rig } from '../../rig/rig.js';
import { syncRig } from '../../rig/sync-rig.js';
import type { Claim } from '../../rig/work.js';
import { feedRefs } from '../../town/feed-refs.js';
import type { Bead } from '../../town/types.js';

export type PublishVerdict = 'published' | 'raced';

/** Pushes the claim's refs (claimBead with `track`) to `remote` in one atomic, leased push. */
export async function publishClaim(rig: Rig, remote: string, claim: Claim): Promise<PublishVerdict> {
  const refs = claim.refs ?? [];
  if (!refs.length) return 'published';
  // The clone's summary ref moves in the same atomic push, so other clones' syncs see the
  // claim (ledger/sync-summary.ts); a stale value of it fails the push like a lost claim.
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
  throw new GastownError('gastown_sync', redact(`cannot publish the claim of ${claim.bead} to ${redact(remote)}: ${why}`).slice(0, 2000));
}

/**
 * Undoes a claim the remote did not take: each ref it wrote goes back to its value before
 * (compare-and-swap from the claim's value, so nothing written since is lost), and the feed
 * says the claim was given up. The next sync then brings the remote's claim in by fast-forward.
 */
export async function undoClaim(rig: Rig, claim: Claim, why: string): Promise<void> {
  const refs = claim.refs ?? [];
  const undone = await rig.ledger.setRefs(refs.map((r) => ({ ref: r.ref, oldOid: r.after, newOid: r.before })));
  if (!undone)
    throw new GastownError('gastown_conflict', `could not undo the local claim of ${claim.bead}: its refs moved meanwhile`, {
      bead: claim.bead,
    });
  const bead = await rig.ledger.get<Bead>('beads', claim.bead);
  await rig.ledger.transact(
    (tx) => {
      rig.emit(tx, 'bead_updated', `${claim.runner} gave up its claim of ${claim.bead}: ${why}`, bead ? feedRefs(bead.value) : {});
    },
    { actor: claim.runner },
  );
}

/**
 * Claims with the remote as the judge: claim locally, publish, and on a lost race undo,
 * sync and claim again (the bead another runner took is then not claimable here). Null when
 * nothing is claimable. `attempts` bounds the loop against a remote that keeps moving.
 */
export async function claimOnRemote(
  rig: Rig,
  remote: string,
  claimLocally: () => Promise<Claim | null>,
  log: (line: string) => void,
  attempts = 5,
): Promise<Claim | null> {
  for (let i = 1; i <= attempts; i++) {
    const claim = await claimLocally();
    if (!claim) return null;
    if ((await publishClaim(rig, remote, claim)) === 'published') return claim;
    await undoClaim(rig, claim, 'the remote ledger moved first (another runner, or this clone was behind)');
    log(`claim of ${claim.bead} lost on the remote; syncing`);
    await syncRig(rig, remote);
  }
  return null;
}
