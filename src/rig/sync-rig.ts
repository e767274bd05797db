import { syncLedger, type SyncOptions, type SyncResult } from '../ledger/sync-ledger.js';
import { repairAfterSync } from './dependents.js';
import { reconcileHooks } from './reconcile-hooks.js';
import type { Rig } from './rig.js';

/**
 * Syncs a rig's ledger with a remote, with the rig's own repairs after the merge (see
 * reconcileHooks, and the dependents index: repairAfterSync). Every caller syncs through here, so none can forget them.
 */
export function syncRig(rig: Rig, remote: string, opts: Omit<SyncOptions, 'afterMerge'> = {}): Promise<SyncResult> {
  const hooks = reconcileHooks(rig);
  const dependents = repairAfterSync(rig);
  return syncLedger(rig.ledger, remote, {
    ...opts,
    afterMerge: async (changed, scope) => {
      await hooks(changed, scope);
      await dependents(changed);
    },
  });
}
