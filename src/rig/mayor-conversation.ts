import type { Plan } from '../town/types.js';
import type { Rig } from './rig.js';

/**
 * A conversation with the Mayor (`gt mayor attach`), kept in the ledger as a chain, one
 * entry per step, each appended by compare-and-swap on the chain's tip as it happens: a
 * crash loses at most the step in flight, and another machine that synced resumes it.
 * `reset` (`--new`) starts afresh without rewriting history.
 */
export type ConversationEntry =
  | { type: 'message'; at: string; role: 'user' | 'assistant'; content: unknown }
  | { type: 'draft'; at: string; draftId: string; revision: number; plan: Plan }
  | { type: 'slung'; at: string; draftId: string; revision: number; convoy: string }
  | { type: 'reset'; at: string };

/** One chain per person: `conversations/mayor-<person>`, the name made safe for a ref. */
export function conversationId(person: string): string {
  const safe = person.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 60) || 'someone';
  return `mayor-${safe}`;
}

export interface ConversationStore {
  /** The entries since the last reset, oldest first. */
  load(): Promise<ConversationEntry[]>;
  /** Appends entries in order, in one transaction. */
  append(entries: ConversationEntry[]): Promise<void>;
}

export function ledgerConversation(rig: Rig, person: string): ConversationStore {
  const id = conversationId(person);
  return {
    async load() {
      const all = (await rig.ledger.readChain<ConversationEntry>('conversations', id)).map((e) => e.value);
      let start = 0;
      all.forEach((e, i) => {
        if (e.type === 'reset') start = i + 1;
      });
      return all.slice(start);
    },
    async append(entries) {
      if (entries.length === 0) return;
      await rig.ledger.transact(
        (tx) => {
          for (const e of entries) tx.append<ConversationEntry>('conversations', id, e, `mayor ${e.type}`);
        },
        { actor: person },
      );
    },
  };
}
