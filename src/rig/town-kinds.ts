import type { EntityKind } from '../ledger/entity-kinds.js';
import type { Ledger } from '../ledger/ledger.js';
import { entityValidators } from '../town/entity-schemas.js';

/** The town's entities in the ledger, declared here by the layer that owns them. */
export type TownDocKind = 'beads' | 'convoys' | 'agents' | 'hooks' | 'heartbeats' | 'meta';
export type TownChainKind = 'mail' | 'reports' | 'feed' | 'cursors' | 'conversations';
export type TownLedger = Ledger<TownDocKind, TownChainKind>;

export const TOWN_DOC_KINDS: readonly TownDocKind[] = ['beads', 'convoys', 'agents', 'hooks', 'heartbeats', 'meta'];
export const TOWN_CHAIN_KINDS: readonly TownChainKind[] = ['mail', 'reports', 'feed', 'cursors', 'conversations'];

/**
 * File names are part of the on-disk format (`git show <ref>:bead.json`): never rename one.
 * Cursors (the pumps' read positions) were never given a name and keep the default.
 */
export const TOWN_KINDS: readonly EntityKind[] = [
  { name: 'beads', file: 'bead.json', shape: 'document', history: 'kept' },
  { name: 'convoys', file: 'convoy.json', shape: 'document', history: 'kept' },
  { name: 'agents', file: 'agent.json', shape: 'document', history: 'kept' },
  { name: 'hooks', file: 'hook.json', shape: 'document', history: 'kept' },
  { name: 'heartbeats', file: 'heartbeat.json', shape: 'document', history: 'replaced' },
  { name: 'meta', file: 'meta.json', shape: 'document', history: 'kept' },
  { name: 'mail', file: 'message.json', shape: 'chain', history: 'kept' },
  /** Runners' mail to the mayor, one chain per polecat (`rig/mail.ts` `reportInTx`): no ref every runner writes. */
  { name: 'reports', file: 'message.json', shape: 'chain', history: 'kept' },
  { name: 'feed', file: 'event.json', shape: 'chain', history: 'kept' },
  { name: 'cursors', file: 'data.json', shape: 'chain', history: 'kept' },
  /** `gt mayor attach`: one chain per person, so a session resumes after a crash or elsewhere. */
  { name: 'conversations', file: 'entry.json', shape: 'chain', history: 'kept' },
];

/** What every opening of a town ledger passes: the kinds and their checks. */
export const TOWN_LEDGER = { kinds: TOWN_KINDS, validators: entityValidators } as const;
