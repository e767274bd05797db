import { GastownError } from '../errors.js';
import { blockersOf } from '../town/graph.js';
import { transitionBead } from '../town/lifecycle.js';
import { AGENT_NAME, checkBeadId } from '../town/ids.js';
import { newAgent, pickPolecat, polecatEmail } from '../town/names.js';
import type { Agent, Bead, Hook } from '../town/types.js';
import { holdsBead } from './reconcile-hooks.js';
import { ESTOP_DOC, estopError, type EstopState } from './estop.js';
import type { Rig } from './rig.js';
import { feedRefs } from '../town/feed-refs.js';

export interface SlingResult {
  bead: Bead;
  polecat: string;
  newPolecat: boolean;
}

/**
 * Puts a ready bead on a polecat's hook: bead (open → hooked), hook and, for a new name,
 * the agent are written in one compare-and-swap transaction, so two slingers can never
 * hook the same bead or load the same polecat twice.
 */
export async function sling(rig: Rig, beadId: string, polecat?: string): Promise<SlingResult> {
  checkBeadId(beadId);
  if (polecat !== undefined && !AGENT_NAME.test(polecat))
    throw new GastownError('gastown_bad_input', `bad polecat name ${JSON.stringify(polecat)}`);
  return rig.ledger.transact(
    async (tx) => {
      const bead = await tx.get<Bead>('beads', beadId);
      if (!bead) throw new GastownError('gastown_not_found', `no bead ${beadId}`);
      const estop = await tx.get<EstopState>('meta', ESTOP_DOC);
      if (estop?.engaged) throw estopError(estop);
      if (bead.status !== 'open')
        throw new GastownError('gastown_illegal_transition', `bead ${beadId} is ${bead.status}, not open`, {
          bead: beadId,
          from: bead.status,
          to: 'hooked',
        });
      const blockers = await rig.ledger.getMany<Bead>('beads', bead.blockedBy);
      const { open, missing } = blockersOf(bead, new Map(blockers.map((b) => [b.id, b.value])));
      if (open.length || missing.length)
        throw new GastownError('gastown_not_ready', `bead ${beadId} is blocked by ${[...open, ...missing].join(', ')}`, {
          bead: beadId,
          blockers: [...open, ...missing],
        });
      let name = polecat;
      let isNew = false;
      if (!name) {
        const [agents, hooks] = await Promise.all([rig.ledger.list<Agent>('agents'), rig.ledger.list<Hook>('hooks')]);
        const pick = pickPolecat(
          agents.map((a) => a.value),
          await withoutLeftovers(
            rig,
            hooks.map((h) => h.value),
          ),
        );
        if (!pick) throw new GastownError('gastown_no_free_polecat', 'every polecat is busy');
        name = pick.name;
      }
      const hook = await tx.get<Hook>('hooks', name);
      // A hook naming a bead assigned to another polecat is a leftover (see reconcileHooks): free.
      const onHook = hook?.bead ? (hook.bead === beadId ? bead : await tx.get<Bead>('beads', hook.bead)) : null;
      if (hook?.bead && holdsBead(hook, onHook))
        throw new GastownError('gastown_conflict', `polecat ${name} already has ${hook.bead} on its hook`, {
          polecat: name,
          bead: hook.bead,
        });
      const agent = await tx.get<Agent>('agents', name);
      if (!agent) {
        isNew = true;
        tx.put(
          'agents',
          name,
          newAgent(name, 'polecat', polecatEmail(name, rig.settings.polecatEmailDomain), rig.at()),
          `create agents/${name}`,
        );
      } else if (agent.role !== 'polecat') throw new GastownError('gastown_bad_input', `${name} is a ${agent.role}, not a polecat`);
      const next = transitionBead(bead, 'hooked', rig.at(), { assignee: name });
      tx.put('beads', beadId, next, `sling beads/${beadId}`);
      tx.put<Hook>('hooks', name, { agent: name, bead: beadId, slungAt: rig.at(), slungBy: rig.actor }, `sling hooks/${name}`);
      rig.emit(tx, 'bead_slung', `${beadId} slung to ${name}`, feedRefs(bead));
      return { bead: next, polecat: name, newPolecat: isNew };
    },
    { actor: rig.actor },
  );
}

/** Takes a bead off its polecat's hook and makes it open again. */
export async function unsling(rig: Rig, beadId: string, reason = 'unslung'): Promise<Bead> {
  checkBeadId(beadId);
  return rig.ledger.transact(
    async (tx) => {
      const bead = await tx.get<Bead>('beads', beadId);
      if (!bead) throw new GastownError('gastown_not_found', `no bead ${beadId}`);
      if (bead.status !== 'hooked' && bead.status !== 'in_progress')
        throw new GastownError(
          'gastown_illegal_transition',
          `bead ${beadId} is ${bead.status}: only hooked or in-progress beads can be unslung`,
        );
      if (bead.assignee) {
        const hook = await tx.get<Hook>('hooks', bead.assignee);
        if (hook?.bead === beadId)
          tx.put<Hook>('hooks', bead.assignee, { ...hook, bead: null, slungAt: null, slungBy: null }, `unsling hooks/${bead.assignee}`);
      }
      const next = transitionBead(bead, 'open', rig.at());
      tx.put('beads', beadId, next, `unsling beads/${beadId}`);
      rig.emit(tx, 'bead_unslung', `${beadId} taken off ${bead.assignee ?? 'its hook'} (${reason})`, feedRefs(bead));
      return next;
    },
    { actor: rig.actor },
  );
}

export interface HookView {
  agent: string;
  bead: Bead | null;
  slungAt: string | null;
}

/** What is on one polecat's hook, or on every polecat's hook. */
export async function hooks(rig: Rig, polecat?: string): Promise<HookView[]> {
  let all: Hook[];
  if (polecat) {
    const one = await rig.ledger.get<Hook>('hooks', polecat);
    all = one ? [one.value] : [];
  } else all = (await rig.ledger.list<Hook>('hooks')).map((h) => h.value);
  if (polecat && all.length === 0) {
    const agent = await rig.ledger.get<Agent>('agents', polecat);
    if (!agent) throw new GastownError('gastown_not_found', `no polecat ${polecat}`);
    return [{ agent: polecat, bead: null, slungAt: null }];
  }
  const beadIds = all.map((h) => h.bead).filter((b): b is string => !!b);
  const beads = new Map((await rig.ledger.getMany<Bead>('beads', beadIds)).map((b) => [b.id, b.value]));
  // A leftover (the bead is assigned to another polecat) shows as an empty hook: that polecat is free.
  const held = (h: Hook) => (h.bead && holdsBead(h, beads.get(h.bead)) ? beads.get(h.bead)! : null);
  return all
    .map((h) => ({ agent: h.agent, bead: held(h), slungAt: held(h) ? h.slungAt : null }))
    .sort((a, b) => a.agent.localeCompare(b.agent));
}

/** Hooks with leftovers (a bead assigned to another polecat) shown as empty: those polecats are free. */
async function withoutLeftovers(rig: Rig, all: Hook[]): Promise<Hook[]> {
  const ids = all.map((h) => h.bead).filter((b): b is string => !!b);
  const beads = new Map((await rig.ledger.getMany<Bead>('beads', ids)).map((b) => [b.id, b.value]));
  return all.map((h) => (h.bead && !holdsBead(h, beads.get(h.bead)) ? { ...h, bead: null } : h));
}
