import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { mayorReplanner, NO_CHECKLIST } from '../../src/mayor/replanner.js';
import { SUBMIT_PLAN_TOOL } from '../../src/mayor/model-planner.js';
import { recordPlan } from '../../src/rig/record-plan.js';
import { sling } from '../../src/rig/sling.js';
import { townService } from '../../src/rig/town-service.js';
import type { PlanBead } from '../../src/town/types.js';
import { allText, startAnthropicMessagesDouble, toolUse, type AnthropicMessagesDouble } from '../support/anthropic-messages-double.js';
import { makeTown, type Town } from '../runner/town-fixture.js';

let town: Town | undefined;
let model: AnthropicMessagesDouble | undefined;
afterEach(async () => {
  town?.cleanup();
  await model?.stop();
  town = undefined;
  model = undefined;
});

const pb = (key: string, title: string, blockedBy: string[] = []): PlanBead => ({
  key,
  title,
  description: `${title}, as planned.`,
  acceptance: ['it works'],
  files: [],
  blockedBy,
});

/** A convoy of three beads (1, 2 after 1, 3 after 2) with the first one slung. */
async function underWay() {
  town = await makeTown();
  const { convoy, beads } = await recordPlan(town.rig, {
    sourceKey: 'github:acme/web#7',
    title: 'Health check',
    source: { kind: 'github', repo: 'acme/web' },
    plan: { summary: 's', beads: [pb('1', 'Add the endpoint'), pb('2', 'Show it', ['1']), pb('3', 'Document it', ['2'])] },
    planner: 'checklist',
    usage: null,
    requireApproval: false,
  });
  await sling(town.rig, beads[0]!.id);
  return { town, convoy, beads };
}

const goal = { title: 'Health check', body: '- [ ] Add the endpoint\n- [ ] Show it (after 1)\n- [ ] Document it (after 2)' };

describe('the Mayor re-plans from a checklist (no model)', () => {
  it('matches items to beads by title: a started one is referred to, a not-started one kept, the rest new or cancelled', async () => {
    const { town, convoy, beads } = await underWay();
    const instruction = [
      'Let us change course:',
      '- [ ] add the  Endpoint',
      '- [ ] Show it (after 1)',
      '- [ ] Write the changelog (after 2)',
      '  Under CHANGELOG.md, one entry per change.',
    ].join('\n');
    const out = await townService(town.rig).replan(convoy.id, {
      key: 'comment:55',
      instruction,
      by: 'ada',
      replanner: mayorReplanner({ planner: 'checklist', goal }),
      maxBeads: 10,
      requireApproval: false,
    });
    expect(out.planner).toBe('checklist');
    expect(out.fixed).toEqual([]);
    expect(out.changed).toEqual([]);
    expect(out.cancelled.map((b) => b.id)).toEqual([beads[2]!.id]);
    expect(out.added.map((b) => [b.key, b.title, b.body, b.blockedBy])).toEqual([
      ['comment-55.3', 'Write the changelog', 'Under CHANGELOG.md, one entry per change.', [beads[1]!.id]],
    ]);
    // The kept bead keeps its own description and acceptance when the list gives none.
    expect(await townService(town.rig).bead(beads[1]!.id)).toMatchObject({ body: 'Show it, as planned.', acceptance: ['it works'] });
  });

  it('a comment without a task list asks for nothing it can do: a plan error marked as such, and nothing changes', async () => {
    const { town, convoy } = await underWay();
    const err = await townService(town.rig)
      .replan(convoy.id, {
        key: 'comment:56',
        instruction: 'Looks good to me!',
        by: 'ada',
        replanner: mayorReplanner({ planner: 'checklist', goal }),
        maxBeads: 10,
        requireApproval: false,
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'gastown_plan_invalid', details: { [NO_CHECKLIST]: true } });
    expect((await townService(town.rig).convoy(convoy.id))!.convoy.replans).toBeUndefined();
  });
});

describe('the Mayor re-plans with the model', () => {
  it('shows the model the conversation, the current plan with started beads fixed and the instruction; applies its plan', async () => {
    const { town, convoy, beads } = await underWay();
    model = await startAnthropicMessagesDouble([
      (req) => {
        const said = allText(req);
        expect(said).toContain('<current_plan>');
        expect(said).toMatch(/"key": "1",[\s\S]*"state": "hooked \(started: fixed\)"/);
        expect(said).toContain('"state": "not started"');
        expect(said).toContain('<untrusted_comment author="bob">\nKeep the tests in one place');
        expect(said).toContain('<untrusted_comment author="ada">\nDrop the docs; add a changelog after the UI.');
        expect(req.tools?.[0]?.name).toBe(SUBMIT_PLAN_TOOL);
        return [
          toolUse(SUBMIT_PLAN_TOOL, {
            summary: 'changelog instead of docs',
            beads: [pb('1', 'Add the endpoint'), pb('2', 'Show it on the dashboard', ['1']), pb('changelog', 'Write the changelog', ['2'])],
          }),
        ];
      },
    ]);
    const client = new Anthropic({ apiKey: 'sk-ant-test', baseURL: model.baseURL, maxRetries: 0 });
    const out = await townService(town.rig).replan(convoy.id, {
      key: 'comment:57',
      instruction: 'Drop the docs; add a changelog after the UI.',
      by: 'ada',
      replanner: mayorReplanner({
        planner: 'model',
        goal,
        comments: [{ author: 'bob', body: 'Keep the tests in one place' }],
        model: { client, model: 'claude-sonnet-4-6' },
      }),
      maxBeads: 10,
      requireApproval: false,
    });
    expect(model.failures).toEqual([]);
    expect(out.planner).toBe('model');
    expect(out.usage?.inputTokens).toBeGreaterThan(0);
    expect(out.changed.map((b) => [b.id, b.title])).toEqual([[beads[1]!.id, 'Show it on the dashboard']]);
    expect(out.cancelled.map((b) => b.id)).toEqual([beads[2]!.id]);
    expect(out.added.map((b) => [b.key, b.blockedBy])).toEqual([['changelog', [beads[1]!.id]]]);
  });
});
