import type { Bead } from './types.js';

/** What a feed event about a bead links to: the bead, its convoy, and a URL (its issue's unless given). */
export function feedRefs(
  bead: Pick<Bead, 'id' | 'convoy' | 'issue'>,
  url: string | null = bead.issue?.url ?? null,
): { bead: string; convoy: string | null; url: string | null } {
  return { bead: bead.id, convoy: bead.convoy, url };
}
