import { z } from '../town/zod.js';
import { GastownError } from '../errors.js';
import { newBead } from '../town/bead.js';
import { findCycle } from '../town/graph.js';
import { shortId } from '../town/ids.js';
import type { Bead } from '../town/types.js';
import { beadIds } from './beads.js';
import { indexWriter, withDependents } from './dependents.js';
import type { Rig } from './rig.js';

const stringOrNumber = z.pipe(
  z.union([z.string(), z.number()]),
  z.transform((v: string | number) => String(v)),
);
const ImportLine = z.strictObject({
  title: z.string(),
  body: z.optional(z.string()),
  priority: z.optional(z.number()),
  labels: z.optional(z.array(z.string())),
  key: z.optional(
    z.pipe(
      z.union([z.string().check(z.minLength(1)), z.number()]),
      z.transform((v: string | number) => String(v)),
    ),
  ),
  blocked_by: z.optional(z.array(stringOrNumber)),
  parent: z.optional(z.string()),
});

export interface ImportResult {
  /** Each line's key (or its 1-based line number when it has none) → the new bead id. */
  ids: Record<string, string>;
  beads: Bead[];
}

/**
 * Creates every bead of a JSON Lines document in one transaction: all or none. `blocked_by`
 * names keys from the same file or existing bead ids. Errors name the line.
 */
export async function importBeads(rig: Rig, text: string, onProgress?: (done: number, total: number) => void): Promise<ImportResult> {
  const rows: { line: number; key: string; data: z.infer<typeof ImportLine> }[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new GastownError('gastown_bad_input', `line ${i + 1}: not valid JSON`);
    }
    const parsed = z.safeParse(ImportLine, json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new GastownError('gastown_bad_input', `line ${i + 1}: ${issue.path.join('.') || 'line'}: ${issue.message}`);
    }
    rows.push({ line: i + 1, key: parsed.data.key ?? String(i + 1), data: parsed.data });
  });
  if (rows.length === 0) throw new GastownError('gastown_bad_input', 'nothing to import: the input has no lines');

  const keys = new Map<string, number>();
  for (const r of rows) {
    if (keys.has(r.key))
      throw new GastownError('gastown_bad_input', `line ${r.line}: key ${JSON.stringify(r.key)} already used on line ${keys.get(r.key)}`);
    keys.set(r.key, r.line);
  }
  const taken = await beadIds(rig);
  const existing = new Set(taken);
  const idOf = new Map<string, string>();
  for (const r of rows) {
    const id = shortId('gt', rig.seed(`${r.data.title}\u0000${r.line}`), (x) => taken.has(x), taken.size + rows.length);
    taken.add(id);
    idOf.set(r.key, id);
  }
  const resolveRef = (r: (typeof rows)[number], ref: string): string => {
    const fromFile = idOf.get(ref);
    if (fromFile) return fromFile;
    if (existing.has(ref)) return ref;
    throw new GastownError(
      'gastown_bad_input',
      `line ${r.line}: blocked_by ${JSON.stringify(ref)} is neither a key in this file nor an existing bead`,
    );
  };
  const at = rig.at();
  const made: Bead[] = rows.map((r) => {
    try {
      return newBead(
        {
          title: r.data.title,
          body: r.data.body,
          priority: r.data.priority,
          labels: r.data.labels,
          key: r.data.key ?? null,
          blockedBy: (r.data.blocked_by ?? []).map((b) => resolveRef(r, b)),
          parent: r.data.parent ? resolveRef(r, r.data.parent) : null,
        },
        idOf.get(r.key)!,
        at,
      );
    } catch (e) {
      if (e instanceof GastownError && !e.message.startsWith('line '))
        throw new GastownError(e.code, `line ${r.line}: ${e.message}`, e.details);
      throw e;
    }
  });
  // Each new bead carries the dependents index of the edges inside the file; existing
  // blockers get theirs in the same transaction as the creates.
  const beads = withDependents(made);
  // Existing beads cannot depend on new ones, so any cycle lies inside the file.
  const cycle = findCycle(beads);
  if (cycle) {
    const keyOf = new Map([...idOf].map(([k, id]) => [id, k]));
    throw new GastownError('gastown_cycle', `dependency cycle: ${[...cycle, cycle[0]].map((id) => keyOf.get(id!) ?? id).join(' -> ')}`);
  }
  onProgress?.(0, beads.length);
  const outside = beads.flatMap((b) => b.blockedBy.filter((x) => existing.has(x)).map((x) => [x, b.id] as const));
  await rig.ledger.createMany(
    'beads',
    beads.map((b) => ({ id: b.id, value: b })),
    { actor: rig.actor, message: 'import' },
    async (tx) => {
      const index = indexWriter(rig, tx);
      for (const [blocker, dependent] of outside)
        if (!(await index.link(blocker, dependent))) throw new GastownError('gastown_not_found', `blocker ${blocker} no longer exists`);
      rig.emit(tx, 'bead_created', `imported ${beads.length} beads`);
    },
  );
  onProgress?.(beads.length, beads.length);
  const ids: Record<string, string> = {};
  for (const r of rows) ids[r.key] = idOf.get(r.key)!;
  return { ids, beads };
}
