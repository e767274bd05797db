import { existsSync } from 'node:fs';
import { Rig } from '../rig/rig.js';
import type { Convoy } from '../town/types.js';

/**
 * Whether a ledger mirror holds an active convoy, read from the mirror as it is (no sync, no
 * request): a convoy another replica planned and this one never saw is that replica's to
 * watch until a webhook brings it here. A repository without a mirror has none.
 */
export async function mirrorHasActiveConvoy(gitDir: string, prefix: string): Promise<boolean> {
  if (!existsSync(gitDir)) return false;
  const rig = await Rig.open({ repoDir: gitDir, allowUninitialised: true, settings: { prefix } });
  try {
    return (await rig.ledger.list<Convoy>('convoys')).some((c) => c.value.status === 'active');
  } finally {
    rig.close();
  }
}
