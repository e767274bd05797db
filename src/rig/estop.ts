/**
 * The emergency stop (`gt estop`, `/gt estop`): one ledger document, `meta/estop`. While it
 * is engaged nothing new is slung or claimed, and every runner stops its agent at the next
 * checkpoint (its work pushed, the bead released to its polecat) and exits; `--release`
 * lets everything resume where it was. The flag is in the ledger, so every clone, runner
 * and the GitHub app see the same switch once synced.
 */
import { GastownError } from '../errors.js';
import type { Transaction } from '../ledger/ledger.js';
import type { Rig } from './rig.js';

export const ESTOP_DOC = 'estop';

export interface EstopState {
  engaged: boolean;
  by: string | null;
  at: string | null;
}

const RELEASED: EstopState = { engaged: false, by: null, at: null };

export async function estopState(rig: Rig): Promise<EstopState> {
  return (await rig.ledger.get<EstopState>('meta', ESTOP_DOC))?.value ?? RELEASED;
}

/** Inside a transaction (sling, claim): the same read, so the check and the write see one ledger. */
export async function estopEngagedIn(tx: Transaction): Promise<boolean> {
  return (await tx.get<EstopState>('meta', ESTOP_DOC))?.engaged === true;
}

export function estopError(state: Pick<EstopState, 'by'>): GastownError {
  return new GastownError(
    'gastown_conflict',
    `the emergency stop is engaged${state.by ? ` (by ${state.by})` : ''}: nothing is slung until gt estop --release`,
    { estop: true },
  );
}

/** Engages (or, with `engaged: false`, releases) the stop. Idempotent: the same state twice writes once. */
export async function setEstop(rig: Rig, engaged: boolean): Promise<EstopState & { changed: boolean }> {
  return rig.ledger.transact(
    async (tx) => {
      const now = (await tx.get<EstopState>('meta', ESTOP_DOC)) ?? RELEASED;
      if (now.engaged === engaged) return { ...now, changed: false };
      const next: EstopState = { engaged, by: rig.actor, at: rig.at() };
      tx.put<EstopState>('meta', ESTOP_DOC, next, `${engaged ? 'engage' : 'release'} meta/${ESTOP_DOC}`);
      rig.emit(
        tx,
        engaged ? 'estop_engaged' : 'estop_released',
        engaged
          ? `emergency stop engaged by ${rig.actor}: runners stop at their next checkpoint, nothing is slung`
          : `emergency stop released by ${rig.actor}: work resumes`,
        {},
      );
      return { ...next, changed: true };
    },
    { actor: rig.actor },
  );
}
