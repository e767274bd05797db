import { z } from './zod.js';
import { parseInput } from './parse-input.js';
import type { Agent, AgentRole, Hook } from './types.js';
import { AGENT_NAME } from './ids.js';

/**
 * Polecat names: short, lowercase, memorable in a feed, safe in branch names and emails. No
 * hyphens, so a suffixed name (`nux-2`) can never be mistaken for another pool name.
 */
export const POLECAT_NAMES: readonly string[] = [
  'furiosa',
  'nux',
  'slit',
  'capable',
  'toast',
  'dag',
  'cheedo',
  'angharad',
  'rictus',
  'ace',
  'keeper',
  'valkyrie',
  'morsov',
  'corpus',
  'max',
  'immortan',
  'joe',
  'organic',
  'bullet',
  'doof',
  'giddy',
  'splendid',
  'warboy',
  'vuvalini',
  'buzzard',
  'guzzoline',
  'citadel',
  'imperator',
  'scabrous',
  'praetorian',
  'dementus',
  'jack',
  'scrotus',
  'octoboss',
  'norton',
  'chumbucket',
  'gutgash',
  'jabassa',
  'mary',
  'rizzdale',
  'hungry',
  'toecutter',
  'goose',
  'nightrider',
  'bubba',
  'fifi',
  'johnny',
  'gigahorse',
];

/**
 * The polecat to sling the next bead to. Persistent identities come first, so history
 * accumulates on a few names: an idle polecat (empty or no hook) with the fewest beads done,
 * ties by name. Otherwise the first pool name nobody holds yet, then `name-2`, `name-3`...
 * Null only for an empty pool.
 */
export function pickPolecat(
  agents: readonly Agent[],
  hooks: readonly Hook[],
  pool: readonly string[] = POLECAT_NAMES,
): { name: string; isNew: boolean } | null {
  const busy = new Set(hooks.filter((h) => h.bead !== null).map((h) => h.agent));
  const idle = agents
    .filter((a) => a.role === 'polecat' && !busy.has(a.name))
    .sort((a, b) => a.beadsDone - b.beadsDone || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (idle[0]) return { name: idle[0].name, isNew: false };

  if (pool.length === 0) return null;
  // Any role holds a name: a new polecat must not take a person's or the Mayor's name.
  const taken = new Set(agents.map((a) => a.name));
  // Each round frees at least one candidate per unheld name, so this ends within
  // agents.length / pool.length + 2 rounds.
  for (let round = 1; ; round++) {
    for (const base of pool) {
      const name = round === 1 ? base : `${base}-${round}`;
      if (!taken.has(name)) return { name, isNew: true };
    }
  }
}

const agentSchema = z.object({
  name: z.string().check(z.regex(AGENT_NAME, 'agent name must be letters, digits, ".", "_" or "-" (at most 64)')),
  role: z.enum(['polecat', 'mayor', 'deacon', 'refinery', 'person']),
  email: z.string().check(z.regex(/^[^\s@]+@[^\s@]+$/, 'email must look like name@domain')),
});

export function newAgent(name: string, role: AgentRole, email: string, at: string): Agent {
  const v = parseInput(agentSchema, { name, role, email }, `agent ${name}`);
  return { name: v.name, role: v.role, email: v.email, createdAt: at, beadsDone: 0, beadsFailed: 0 };
}

/** The commit identity of a polecat, so its work is attributable in `git log`. */
export function polecatEmail(name: string, domain = 'polecats.gastown.local'): string {
  return `${name}@${domain}`;
}
