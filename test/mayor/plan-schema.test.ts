import { describe, expect, it } from 'vitest';

import { PlanSchema, planJsonSchema } from '../../src/mayor/plan-schema.js';
import { anthropicFixture } from './anthropic-fixtures.js';

const validPlan = () => structuredClone(anthropicFixture('plan-valid.json').content[0].input);

describe('PlanSchema', () => {
  it('accepts a real plan and drops fields it does not know', () => {
    const input = validPlan();
    input.beads[0].priority = 1;

    const parsed = PlanSchema.parse(input);

    expect(parsed.beads[0]).not.toHaveProperty('priority');
    expect(parsed.beads.map((b) => b.key)).toEqual(['bucket', 'middleware', 'docs']);
  });

  it('rejects missing fields, bad keys and oversized text', () => {
    const noAcceptance = validPlan();
    delete noAcceptance.beads[0].acceptance;
    const badKey = validPlan();
    badKey.beads[0].key = 'has space';
    const longTitle = validPlan();
    longTitle.beads[0].title = 'x'.repeat(257);

    for (const plan of [noAcceptance, badKey, longTitle, { summary: 'x', beads: [] }]) {
      expect(PlanSchema.safeParse(plan).success).toBe(false);
    }
  });
});

describe('planJsonSchema', () => {
  it("is generated from PlanSchema with the rig's bead cap, ready to be a tool input_schema", () => {
    const schema = planJsonSchema(7) as any;

    expect(schema.type).toBe('object');
    expect(schema).not.toHaveProperty('$schema');
    expect(schema.required).toEqual(['summary', 'beads']);
    expect(schema.properties.beads).toMatchObject({ type: 'array', minItems: 1, maxItems: 7 });
    const bead = schema.properties.beads.items;
    expect(bead.required).toEqual(['key', 'title', 'description', 'acceptance', 'files', 'blockedBy']);
    expect(bead.additionalProperties).toBe(false);
    expect(bead.properties.key).toMatchObject({ type: 'string', maxLength: 40, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
    expect(bead.properties.blockedBy.items.pattern).toBe(bead.properties.key.pattern);
    expect(typeof bead.properties.acceptance.description).toBe('string');
  });

  it('refuses caps outside 1 to 50', () => {
    for (const n of [0, 51, 2.5]) {
      expect(() => planJsonSchema(n)).toThrow(expect.objectContaining({ code: 'gastown_bad_input' }));
    }
  });
});
