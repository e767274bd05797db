/**
 * An in-memory stand-in for the ledger-backed rig service and the Mayor, for tests only.
 * It copies on the way in and out, as a store would, so a handler cannot mutate its state
 * by accident.
 */
import { GastownError } from '../../src/errors.js';
import type {
  MayorInput,
  MayorResult,
  ParentIssueKey,
  PlanFailure,
  PlanIssueDeps,
  RecordPlanInput,
  RecordedConvoy,
} from '../../src/github/plan-issue-deps.js';
import type { Bead, Convoy, ForgeLink, Plan } from '../../src/town/types.js';
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

export class InMemoryPlanDeps implements PlanIssueDeps {
  readonly convoys = new Map<string, Convoy>();
  readonly beads = new Map<string, Bead>();
  readonly failures: PlanFailure[] = [];
  readonly mayorInputs: MayorInput[] = [];
  readonly calls: string[] = [];
  plan: Plan = fourBeadPlan();
  mayorError: Error | null = null;

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
  };

  async findConvoy(key: ParentIssueKey): Promise<RecordedConvoy | null> {
    this.calls.push('findConvoy');
    const convoy = this.convoys.get(convoyId(key));
    return convoy ? this.#snapshot(convoy) : null;
  }

  async recordPlan(input: RecordPlanInput): Promise<RecordedConvoy> {
    this.calls.push('recordPlan');
    const id = convoyId(input.key);
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
      statusCommentId: null,
      slackThreadTs: null,
      createdAt: AT,
      updatedAt: AT,
      landedAt: null,
    };
    this.convoys.set(id, convoy);
    return this.#snapshot(convoy);
  }

  async recordLink(beadId: string, link: ForgeLink): Promise<void> {
    this.calls.push(`recordLink ${beadId} #${link.number}`);
    this.#bead(beadId).issue = { ...link };
  }

  async recordStatusComment(id: string, commentId: number): Promise<void> {
    this.calls.push(`recordStatusComment ${commentId}`);
    this.#convoy(id).statusCommentId = commentId;
  }

  async approve(id: string, login: string): Promise<RecordedConvoy> {
    this.calls.push(`approve ${login}`);
    const convoy = this.#convoy(id);
    if (convoy.status === 'awaiting_approval') Object.assign(convoy, { status: 'active', approved: true, approvedBy: login });
    return this.#snapshot(convoy);
  }

  async markMaterialised(id: string): Promise<void> {
    this.calls.push('markMaterialised');
    const convoy = this.#convoy(id);
    if (convoy.status === 'failed') convoy.status = 'active';
  }

  async recordFailure(failure: PlanFailure): Promise<void> {
    this.calls.push(`recordFailure ${failure.code}`);
    this.failures.push(structuredClone(failure));
  }

  clock(): Date {
    return new Date(AT);
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

function convoyId(key: ParentIssueKey): string {
  return `cv-${key.repo.replace(/[^a-z0-9]/gi, '').toLowerCase()}-${key.issueNumber}`;
}
