/**
 * An in-memory town for surface tests: the GitHub flows' part of the town service
 * (`GithubTown`, a `Pick` of rig/town-service.ts's `TownService`), the Mayor, and the rest
 * of a repository's services. It copies on the way in and out, as a store would, so a
 * handler cannot mutate its state by accident; every call is recorded in `calls`. Flows that
 * dispatch find nothing pending unless a test sets `pending`.
 */
import { GastownError } from '../../src/errors.js';
import type { GithubTown, RepoServices } from '../../src/github/app-deps.js';
import type { MayorInput, MayorResult } from '../../src/github/mayor.js';
import type {
  MergedOutcome,
  PendingDispatch,
  UnconfirmedDispatch,
  PlanFailure,
  RecordedConvoy,
  RecordPlanInput,
  RevisionOutcome,
  RevisionRequest,
} from '../../src/rig/town-service.js';
import { decideRevision, NEEDS_HUMAN_LABEL, withRevisionKey } from '../../src/town/revision.js';
import type { Bead, Convoy, ForgeLink, Plan } from '../../src/town/types.js';
import { applyBudget, beadsSpent, budgetSpent, parseBudget } from '../../src/town/costs.js';
import type { BudgetChange, EstopState, Replanner, ReplanInput, ReplanOutcome } from '../../src/rig/town-service.js';
import { bead as beadFixture } from '../town/bead-fixture.js';

const AT = '2026-01-02T03:04:05.000Z';

export function fourBeadPlan(): Plan {
  // a ← b, a ← c, b ← d: four beads, three blocked-by edges.
  const bead = (key: string, title: string, blockedBy: string[]) => ({
    key,
    title,
    description: `Do ${title.toLowerCase()}.`,
    acceptance: [`${title} works`],
    files: [`src/${key}.ts`],
    blockedBy,
  });
  return {
    summary: 'Add --json everywhere',
    beads: [
      bead('a', 'Output schema', []),
      bead('b', 'JSON for list', ['a']),
      bead('c', 'JSON for show', ['a']),
      bead('d', 'Docs for --json', ['b']),
    ],
  };
}

export class InMemoryTown implements GithubTown, RepoServices {
  readonly convoys = new Map<string, Convoy>();
  readonly beads = new Map<string, Bead>();
  readonly failures: (PlanFailure & { at: string })[] = [];
  readonly mayorInputs: MayorInput[] = [];
  readonly calls: string[] = [];
  plan: Plan = fourBeadPlan();
  mayorError: Error | null = null;
  /** What `pendingDispatch` answers. */
  pending: PendingDispatch[] = [];

  get town(): GithubTown {
    return this;
  }

  readonly mayor = {
    plan: async (input: MayorInput): Promise<MayorResult> => {
      this.mayorInputs.push(structuredClone(input));
      if (this.mayorError) throw this.mayorError;
      return {
        plan: structuredClone(this.plan),
        planner: 'model',
        usage: { inputTokens: 1200, outputTokens: 340, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0.0087 },
      };
    },
    replanner: (): Replanner => async () => ({ plan: structuredClone(this.plan), planner: 'model', usage: null }),
  };

  /** Re-planning is tested on a real rig (test/rig/replan-convoy.test.ts) and on the GitHub double (test/e2e/github-replan.test.ts). */
  async replan(_convoyId: string, _input: ReplanInput): Promise<ReplanOutcome> {
    this.calls.push('replan');
    throw new Error('InMemoryTown does not re-plan');
  }

  async publish(): Promise<void> {
    this.calls.push('publish');
  }

  clock(): Date {
    return new Date(AT);
  }

  async bead(id: string): Promise<Bead | null> {
    const bead = this.beads.get(id);
    return bead ? structuredClone(bead) : null;
  }

  async convoy(id: string): Promise<RecordedConvoy | null> {
    const convoy = this.convoys.get(id);
    return convoy ? this.#snapshot(convoy) : null;
  }

  async convoyFor(sourceKey: string): Promise<RecordedConvoy | null> {
    this.calls.push('convoyFor');
    const convoy = this.convoys.get(convoyId(sourceKey));
    return convoy ? this.#snapshot(convoy) : null;
  }

  async recordPlan(input: RecordPlanInput): Promise<RecordedConvoy> {
    this.calls.push('recordPlan');
    const id = convoyId(input.sourceKey);
    const existing = this.convoys.get(id);
    if (existing) return this.#snapshot(existing);
    const ids = new Map(input.plan.beads.map((b) => [b.key, `gt-${b.key}`] as const));
    for (const planned of input.plan.beads) {
      this.beads.set(
        ids.get(planned.key)!,
        beadFixture(ids.get(planned.key)!, {
          title: planned.title,
          body: planned.description,
          blockedBy: planned.blockedBy.map((k) => ids.get(k)!),
          convoy: id,
          key: planned.key,
          acceptance: planned.acceptance,
          files: planned.files,
          createdAt: AT,
          updatedAt: AT,
        }),
      );
    }
    const convoy: Convoy = {
      id,
      title: input.title,
      beads: [...ids.values()],
      status: input.requireApproval ? 'awaiting_approval' : 'active',
      approved: !input.requireApproval,
      approvedBy: null,
      source: input.source,
      planner: input.planner,
      usage: input.usage,
      createdAt: AT,
      updatedAt: AT,
      landedAt: null,
    };
    this.convoys.set(id, convoy);
    return this.#snapshot(convoy);
  }

  async recordPlanFailure(failure: PlanFailure): Promise<void> {
    this.calls.push(`recordPlanFailure ${failure.code}`);
    this.failures.push({ ...structuredClone(failure), at: AT });
  }

  async linkBead(beadId: string, link: ForgeLink): Promise<void> {
    this.calls.push(`linkBead ${beadId} #${link.number}`);
    this.#bead(beadId).issue = { ...link };
  }

  async markConvoy(id: string, key: string, value: string | number): Promise<void> {
    this.calls.push(`markConvoy ${key} ${value}`);
    const convoy = this.#convoy(id);
    convoy.marks = { ...convoy.marks, [key]: value };
  }

  async approve(id: string, login: string): Promise<RecordedConvoy> {
    this.calls.push(`approve ${login}`);
    const convoy = this.#convoy(id);
    if (convoy.status === 'awaiting_approval') Object.assign(convoy, { status: 'active', approved: true, approvedBy: login });
    return this.#snapshot(convoy);
  }

  async stop(id: string, login: string): Promise<RecordedConvoy & { unslung: string[] }> {
    this.calls.push(`stop ${login}`);
    const convoy = this.#convoy(id);
    if (convoy.status !== 'landed') convoy.status = 'stopped';
    return { ...this.#snapshot(convoy), unslung: [] };
  }

  /** The same rules as rig/costs.ts changeBudget, over the in-memory records. */
  async budget(id: string, text: string, login: string): Promise<BudgetChange> {
    this.calls.push(`budget ${text} ${login}`);
    const convoy = this.#convoy(id);
    const { budget, relative } = parseBudget(text);
    convoy.budget = applyBudget(convoy.budget, budget, relative);
    const beads = this.#snapshot(convoy).beads;
    const spent = beadsSpent(beads);
    const resumed = budgetSpent(convoy.budget, spent) ? [] : beads.filter((b) => b.paused === 'budget').map((b) => b.id);
    for (const id of resumed) this.#bead(id).paused = null;
    return { convoy: structuredClone(convoy), spent, resumed };
  }

  estopped: EstopState = { engaged: false, by: null, at: null };

  async estop(engaged: boolean, login: string): Promise<EstopState & { changed: boolean }> {
    this.calls.push(`estop ${engaged} ${login}`);
    const changed = this.estopped.engaged !== engaged;
    if (changed) this.estopped = { engaged, by: login, at: AT };
    return { ...this.estopped, changed };
  }

  async markMaterialised(id: string): Promise<void> {
    this.calls.push('markMaterialised');
    const convoy = this.#convoy(id);
    convoy.materialisedAt ??= AT;
    convoy.lastError = null;
  }

  async pendingDispatch(): Promise<PendingDispatch[]> {
    return structuredClone(this.pending);
  }

  async markDispatched(pending: PendingDispatch, by = ''): Promise<void> {
    this.calls.push(`markDispatched ${pending.bead.id}`);
    const bead = this.#bead(pending.bead.id);
    const mark = by ? `${pending.key}#${by}` : pending.key;
    if (!bead.labels.some((l) => l === pending.key || l.startsWith(`${pending.key}#`))) bead.labels.push(mark);
  }

  async unmarkDispatched(pending: PendingDispatch, by = ''): Promise<void> {
    this.calls.push(`unmarkDispatched ${pending.bead.id}`);
    const bead = this.#bead(pending.bead.id);
    const mark = by ? `${pending.key}#${by}` : pending.key;
    bead.labels = bead.labels.filter((l) => l !== mark);
  }

  /** What `unconfirmedDispatches` answers. */
  unconfirmed: UnconfirmedDispatch[] = [];

  async confirmDispatched(pending: PendingDispatch): Promise<void> {
    this.calls.push(`confirmDispatched ${pending.bead.id}`);
  }

  async unconfirmedDispatches(): Promise<UnconfirmedDispatch[]> {
    return structuredClone(this.unconfirmed);
  }

  async reslingUndispatched(pending: UnconfirmedDispatch): Promise<boolean> {
    this.calls.push(`reslingUndispatched ${pending.bead.id}`);
    return true;
  }

  async dispatchersOf(pending: PendingDispatch): Promise<string[]> {
    const labels = this.beads.get(pending.bead.id)?.labels ?? [];
    return labels
      .filter((l) => l === pending.key || l.startsWith(`${pending.key}#`))
      .map((l) => l.slice(pending.key.length + 1))
      .sort();
  }

  async recordMerged(beadId: string): Promise<MergedOutcome> {
    this.calls.push(`recordMerged ${beadId}`);
    const bead = this.#bead(beadId);
    const changed = bead.status !== 'closed';
    const newlyReady = changed ? await this.#closeAndFindReady(bead) : [];
    const convoy = bead.convoy ? this.#convoy(bead.convoy) : null;
    const landed = changed && !!convoy && convoy.beads.every((id) => this.#bead(id).status === 'closed');
    if (landed && convoy) Object.assign(convoy, { status: 'landed', landedAt: AT });
    return structuredClone({ bead, changed, convoy, landed, newlyReady });
  }

  async recordRejected(beadId: string): Promise<Bead> {
    this.calls.push(`recordRejected ${beadId}`);
    const bead = this.#bead(beadId);
    Object.assign(bead, { status: 'open', assignee: null });
    return structuredClone(bead);
  }

  async readyDependents(beadId: string): Promise<Bead[]> {
    const all = [...this.beads.values()];
    const closed = (id: string) => this.beads.get(id)?.status === 'closed';
    return structuredClone(all.filter((b) => b.status !== 'closed' && b.blockedBy.includes(beadId) && b.blockedBy.every(closed)));
  }

  async markMirrored(beadId: string, label: string): Promise<void> {
    const bead = this.#bead(beadId);
    if (!bead.labels.includes(label)) bead.labels.push(label);
  }

  /** The same decision the rig makes (town/revision.ts), over the in-memory bead; cap 3. */
  async requestRevision(beadId: string, req: RevisionRequest): Promise<RevisionOutcome> {
    this.calls.push(`requestRevision ${beadId} ${req.kind} ${req.by}`);
    const bead = this.#bead(beadId);
    const decision = decideRevision(bead, req.kind, 3, req.key ?? null);
    bead.revisionKeys = withRevisionKey(bead, req.key ?? null);
    if (decision.action === 'duplicate') return { action: 'duplicate', bead: structuredClone(bead) };
    if (decision.action === 'queue') {
      bead.revisionPending = true;
      return { action: 'queue', bead: structuredClone(bead), polecat: bead.assignee };
    }
    if (decision.action === 'needs_human') {
      if (!bead.labels.includes(NEEDS_HUMAN_LABEL)) bead.labels.push(NEEDS_HUMAN_LABEL);
      return { action: 'needs_human', bead: structuredClone(bead), rounds: decision.rounds, owner: 'mayor' };
    }
    Object.assign(bead, { status: 'hooked', revisions: decision.round, attempts: 0, approvedBy: null });
    return { action: 'revise', bead: structuredClone(bead), polecat: bead.assignee ?? 'nobody', round: decision.round, pending: false };
  }

  async #closeAndFindReady(bead: Bead): Promise<Bead[]> {
    Object.assign(bead, { status: 'closed', closedAt: AT });
    return this.readyDependents(bead.id);
  }

  #snapshot(convoy: Convoy): RecordedConvoy {
    return structuredClone({ convoy, beads: convoy.beads.map((id) => this.#bead(id)) });
  }

  #bead(id: string): Bead {
    const bead = this.beads.get(id);
    if (!bead) throw new GastownError('gastown_not_found', `no bead ${id}`);
    return bead;
  }

  #convoy(id: string): Convoy {
    const convoy = this.convoys.get(id);
    if (!convoy) throw new GastownError('gastown_not_found', `no convoy ${id}`);
    return convoy;
  }
}

/** `github:Codertocat/Hello-World#1` → `cv-codertocathelloworld-1`: readable in assertions. */
function convoyId(sourceKey: string): string {
  const m = /^github:(.+)#(\d+)$/.exec(sourceKey);
  if (!m) return `cv-${sourceKey.replace(/[^a-z0-9]/gi, '').toLowerCase()}`;
  return `cv-${m[1]!.replace(/[^a-z0-9]/gi, '').toLowerCase()}-${m[2]}`;
}
