import { describe, expect, it } from 'vitest';
import { newBead } from '../../src/town/bead.js';
import { planToBeadInputs, validatePlan } from '../../src/town/plan.js';
import type { Plan, PlanBead } from '../../src/town/types.js';
import { expectGastownError } from './expect-error.js';

function pb(key: string, blockedBy: string[] = [], over: Partial<PlanBead> = {}): PlanBead {
  return { key, title: `Do ${key}`, description: `About ${key}`, acceptance: [], files: [], blockedBy, ...over };
}
const plan = (...beads: PlanBead[]): Plan => ({ summary: 's', beads });
const opts = { maxBeads: 5 };

describe('validatePlan', () => {
  it('accepts a valid diamond', () => {
    expect(validatePlan(plan(pb('a'), pb('b', ['a']), pb('c', ['a']), pb('d', ['b', 'c'])), opts)).toEqual([]);
  });

  it('requires 1 to maxBeads beads', () => {
    expect(validatePlan(plan(), opts)).toEqual(['the plan has no beads; it needs at least 1']);
    expect(validatePlan(plan(...['a', 'b', 'c', 'd', 'e', 'f'].map((k) => pb(k))), opts)).toEqual([
      'the plan has 6 beads; at most 5 are allowed',
    ]);
  });

  it('checks keys: empty, malformed and duplicated', () => {
    const errors = validatePlan(plan(pb(''), pb('has space'), pb('-lead'), pb('x'.repeat(41)), pb('ok'), pb('ok')), {
      maxBeads: 10,
    });

    expect(errors).toEqual([
      'bead 1 has an empty key',
      'bead "has space": key must be 1 to 40 letters, digits, "-", "_" or ".", starting with a letter or digit',
      'bead "-lead": key must be 1 to 40 letters, digits, "-", "_" or ".", starting with a letter or digit',
      `bead "${'x'.repeat(41)}": key must be 1 to 40 letters, digits, "-", "_" or ".", starting with a letter or digit`,
      'key "ok" is used by more than one bead',
    ]);
  });

  it('accepts keys with dots, dashes and underscores up to 40 characters', () => {
    expect(validatePlan(plan(pb('Auth.api_v2-x'), pb('y'.repeat(40))), opts)).toEqual([]);
  });

  it('checks titles', () => {
    const errors = validatePlan(
      plan(pb('a', [], { title: '  ' }), pb('b', [], { title: 'x'.repeat(257) }), pb('c', [], { title: 'one\ntwo' })),
      opts,
    );

    expect(errors).toEqual([
      'bead "a" has an empty title',
      'bead "b": title is longer than 256 characters',
      'bead "c": title must be a single line',
    ]);
  });

  it('checks dependencies: unknown and self', () => {
    expect(validatePlan(plan(pb('a', ['a']), pb('b', ['nope'])), opts)).toEqual([
      'bead "a" is blocked by itself',
      'bead "b" is blocked by unknown key "nope"',
    ]);
  });

  it('names a cycle', () => {
    expect(validatePlan(plan(pb('a', ['b']), pb('b', ['a'])), opts)).toEqual(['the dependencies form a cycle: a -> b -> a']);
    expect(validatePlan(plan(pb('a', ['c']), pb('b', ['a']), pb('c', ['b'])), opts)).toEqual([
      'the dependencies form a cycle: a -> c -> b -> a',
    ]);
  });

  it('produces only plans newBead accepts', () => {
    const p = plan(pb('a', [], { title: '  Padded title  ', acceptance: ['', 'works'] }));

    expect(validatePlan(p, opts)).toEqual([]);
    const [input] = planToBeadInputs(p, new Map([['a', 'gt-aaaa']]), 'cv-1234');
    expect(newBead(input!, 'gt-aaaa', '2026-03-01T00:00:00.000Z').title).toBe('Padded title');
  });
});

describe('planToBeadInputs', () => {
  it('maps keys to ids and carries the plan fields', () => {
    const p = plan(pb('a', [], { acceptance: ['ok'], files: ['src/a.ts'] }), pb('b', ['a']));
    const keyToId = new Map([
      ['a', 'gt-aaaa'],
      ['b', 'gt-bbbb'],
    ]);

    expect(planToBeadInputs(p, keyToId, 'cv-1234')).toEqual([
      { title: 'Do a', body: 'About a', blockedBy: [], convoy: 'cv-1234', key: 'a', acceptance: ['ok'], files: ['src/a.ts'] },
      { title: 'Do b', body: 'About b', blockedBy: ['gt-aaaa'], convoy: 'cv-1234', key: 'b', acceptance: [], files: [] },
    ]);
  });

  it('refuses a key with no id', () => {
    const err = expectGastownError(
      () => planToBeadInputs(plan(pb('a'), pb('b', ['a'])), new Map([['b', 'gt-bbbb']]), 'cv-1234'),
      'gastown_plan_invalid',
    );

    expect(err.message).toBe('plan key "a" has no bead id');
  });
});
