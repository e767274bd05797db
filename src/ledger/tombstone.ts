/**
 * Deletes are tombstones, not ref deletions. A deleted entity's ref stays, pointing at a
 * commit whose value is this marker (and whose tree is empty, so `git show <ref>:bead.json`
 * finds nothing), with the last version as parent. The delete is thus an ordinary
 * descendant: sync fast-forwards it on every clone and on the remote, where a removed ref
 * would come back from the side that still has it. Readers (`get`, `getMany`, `list`)
 * treat a tombstone as absent; writing the entity again puts a new version on top of it.
 */
export const TOMBSTONE: Readonly<{ $deleted: true }> = Object.freeze({ $deleted: true });

/** True for the value of a tombstone commit. */
export function isTombstone(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && (value as { $deleted?: unknown }).$deleted === true && Object.keys(value).length === 1
  );
}
