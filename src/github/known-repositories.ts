/**
 * The repositories this replica has had deliveries for, with what a pass on one needs when no
 * delivery is at hand (the Deacon's timer, github/deacon-tick.ts): its name as GitHub spells
 * it, the installation that reaches it, its default branch (where workflow runs start) and
 * its ledger prefix (to read the mirror without asking GitHub for the config).
 *
 * Kept in a JSON file under GASTOWN_DATA_DIR beside the mirrors, so a replica that died and
 * was restarted still knows the repositories whose convoys it must watch: GitHub does not
 * redeliver the webhook that was in flight, and no other may come. Written only when an
 * entry changes (a new repository, a moved installation or default branch, a new prefix),
 * by rename, so a crash leaves the old file or the new one. Nothing secret is in it.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { randomHex } from '../random-hex.js';

export interface KnownRepository {
  owner: string;
  repo: string;
  installationId: number;
  defaultBranch: string;
  prefix: string;
}

const entrySchema = z.object({
  owner: z.string().min(1),
  repo: z.string().min(1),
  installationId: z.number().int().positive(),
  defaultBranch: z.string().min(1),
  prefix: z.string().min(1),
});
const fileSchema = z.object({ repositories: z.array(z.unknown()) });

export class KnownRepositories {
  readonly #file: string | null;
  readonly #entries = new Map<string, KnownRepository>();

  /** `file`: where the list is kept (null: in memory only). A damaged file or entry is left out, and told to `log`. */
  constructor(file: string | null, log?: Pick<Logger, 'warn'>) {
    this.#file = file;
    if (!file || !existsSync(file)) return;
    try {
      const parsed = fileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
      for (const raw of parsed.repositories) {
        const entry = entrySchema.safeParse(raw);
        if (entry.success) this.#entries.set(keyOf(entry.data), entry.data);
        else log?.warn({ file }, 'Left out a damaged entry of the known repositories');
      }
    } catch (err) {
      // Only costs a webhook: the next delivery for a repository records it again.
      log?.warn({ file, problem: (err as Error).message.split('\n')[0] }, 'Could not read the known repositories; starting without them');
    }
  }

  /** Every repository recorded, in the order first seen. */
  list(): KnownRepository[] {
    return [...this.#entries.values()];
  }

  /**
   * Records what a delivery says of its repository. Never throws: a failure to write is
   * logged, the entry is kept in memory, and the next change writes it again.
   */
  record(entry: KnownRepository, log?: Pick<Logger, 'warn'>): void {
    const key = keyOf(entry);
    const known = this.#entries.get(key);
    if (
      known &&
      known.owner === entry.owner &&
      known.repo === entry.repo &&
      known.installationId === entry.installationId &&
      known.defaultBranch === entry.defaultBranch &&
      known.prefix === entry.prefix
    )
      return;
    this.#entries.set(key, { ...entry });
    if (!this.#file) return;
    try {
      mkdirSync(dirname(this.#file), { recursive: true });
      const tmp = `${this.#file}.${process.pid}-${randomHex(4)}.tmp`;
      writeFileSync(tmp, `${JSON.stringify({ repositories: this.list() }, null, 2)}\n`);
      renameSync(tmp, this.#file);
    } catch (err) {
      log?.warn({ problem: (err as Error).message.split('\n')[0] }, 'Could not write the known repositories');
    }
  }
}

/** GitHub's names ignore case: one entry per repository however a payload spells it. */
function keyOf(entry: Pick<KnownRepository, 'owner' | 'repo'>): string {
  return `${entry.owner.toLowerCase()}/${entry.repo.toLowerCase()}`;
}
