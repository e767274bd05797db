/**
 * The kinds of entity a ledger holds are declared by the layer that owns them (the rig
 * declares the town's: rig/town-kinds.ts); the ledger knows none by name. A kind says which
 * file its commits hold, whether it is one document per ref or a chain of entries, and
 * whether its history is kept or replaced by each write (a heartbeat has no history worth
 * keeping).
 */
export interface EntityKind {
  name: string;
  /** The file in each commit's tree, e.g. `bead.json` (what `git show <ref>:bead.json` reads). */
  file: string;
  shape: 'document' | 'chain';
  history: 'kept' | 'replaced';
}

/** A kind nobody declared: a document with its history, in `data.json`. */
const UNDECLARED = { file: 'data.json', shape: 'document', history: 'kept' } as const;

export class EntityKinds {
  readonly #byName: ReadonlyMap<string, EntityKind>;

  constructor(kinds: readonly EntityKind[] = []) {
    this.#byName = new Map(kinds.map((k) => [k.name, k]));
  }

  fileOf(kind: string): string {
    return this.#byName.get(kind)?.file ?? UNDECLARED.file;
  }

  isChain(kind: string): boolean {
    return (this.#byName.get(kind)?.shape ?? UNDECLARED.shape) === 'chain';
  }

  keepsHistory(kind: string): boolean {
    return (this.#byName.get(kind)?.history ?? UNDECLARED.history) === 'kept';
  }
}
