/**
 * A claim made in one clone is pushed to the ledger's remote before its agent starts, so a
 * runner in another clone (another Actions job for the same bead, another `gt runner`) sees
 * it at once instead of at the first one's final sync. The push is one compare-and-swap on
 * the remote: every ref the claim wrote, atomically, each with `--force-with-lease=<ref>:<the
 * value the claim replaced>`. When the remote moved meanwhile (another runner claimed first,
 * or this clone was behind), the local claim is undone and the runner syncs and looks again.
 */
import { GastownError } from '../../errors.js';
import type { Rig } from '../../rig/rig.js';
import { syncRig } from '../../rig/sync-rig.js';
import type { Claim } from '../../rig/work.js';
import { feedRefs } from '../../town/feed-refs.js';
import type { Bead } from '../../town/types.js';
import { publishRefs, type PublishVerdict, undoRefs } from './publish-refs.js';

export type { PublishVerdict };

/** Pushes the claim's refs (claimBead with `track`) to `remote` in one atomic, leased push. */
export function publishClaim(rig: Rig, remote: string, claim: Claim): Promise<PublishVerdict> {
  return publishRefs(rig, remote, claim.refs ?? [], `the claim of ${claim.bead}`);
}

/**
 * Undoes a claim the remote did not take: each ref it wrote goes back to its value before
 * (compare-and-swap from the claim's value, so nothing written since is lost), and the feed
 * says the claim was given up. The next sync then brings the remote's claim in by fast-forward.
 */
export async function undoClaim(rig: Rig, claim: Claim, why: string): Promise<void> {
  if (!(await undoRefs(rig, claim.refs ?? [])))
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
