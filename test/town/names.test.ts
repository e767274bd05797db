import { describe, expect, it } from 'vitest';
import { POLECAT_NAMES, newAgent, pickPolecat, polecatEmail } from '../../src/town/names.js';
import type { Agent, Hook } from '../../src/town/types.js';
import { expectGastownError } from './expect-error.js';

const AT = '2026-03-01T12:00:00.000Z';

function polecat(name: string, beadsDone = 0): Agent {
  return { ...newAgent(name, 'polecat', polecatEmail(name), AT), beadsDone };
}
function hook(agent: string, bead: string | null): Hook {
  return { agent, bead, slungAt: bead ? AT : null, slungBy: bead ? 'mayor' : null };
}

describe('POLECAT_NAMES', () => {
  it('holds at least 40 unique short lowercase names', () => {
    expect(POLECAT_NAMES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(POLECAT_NAMES).size).toBe(POLECAT_NAMES.length);
    for (const name of POLECAT_NAMES) expect(name).toMatch(/^[a-z]{2,12}$/);
    expect(POLECAT_NAMES).toEqual(expect.arrayContaining(['furiosa', 'nux', 'slit', 'capable', 'toast']));
  });
});

describe('pickPolecat', () => {
  it('reuses an idle polecat with the fewest beads done, ties by name', () => {
    const agents = [polecat('toast', 5), polecat('slit', 2), polecat('nux', 2), polecat('ace', 0)];
    const hooks = [hook('ace', 'gt-aaaa'), hook('nux', null)];

    expect(pickPolecat(agents, hooks)).toEqual({ name: 'nux', isNew: false });
  });

  it('treats a polecat with no hook record as idle', () => {
    expect(pickPolecat([polecat('dag', 9)], [])).toEqual({ name: 'dag', isNew: false });
  });

  it('never picks a non-polecat agent, even an idle one', () => {
    const agents = [{ ...newAgent('furiosa', 'person', 'f@x.y', AT) }, { ...newAgent('mayor', 'mayor', 'm@x.y', AT) }];

    expect(pickPolecat(agents, [])).toEqual({ name: 'nux', isNew: true });
  });

  it('mints the first free pool name when every polecat is busy', () => {
    const agents = [polecat('furiosa'), polecat('slit')];
    const hooks = [hook('furiosa', 'gt-aaaa'), hook('slit', 'gt-bbbb')];

    expect(pickPolecat(agents, hooks)).toEqual({ name: 'nux', isNew: true });
  });

  it('falls back to suffixed names when the whole pool is busy', () => {
    const pool = ['a', 'b'];
    const agents = [polecat('a'), polecat('b'), polecat('a-2')];
    const hooks = agents.map((a) => hook(a.name, `gt-${a.name}`));

    expect(pickPolecat(agents, hooks, pool)).toEqual({ name: 'b-2', isNew: true });
  });

  it('returns null only for an empty pool with no idle polecat', () => {
    expect(pickPolecat([], [], [])).toBeNull();
    expect(pickPolecat([polecat('x')], [], [])).toEqual({ name: 'x', isNew: false });
  });
});

describe('newAgent / polecatEmail', () => {
  it('builds an agent with zeroed counters', () => {
    expect(newAgent('nux', 'polecat', 'nux@polecats.gastown.local', AT)).toEqual({
      name: 'nux',
      role: 'polecat',
      email: 'nux@polecats.gastown.local',
      createdAt: AT,
      beadsDone: 0,
      beadsFailed: 0,
    });
  });

  it('refuses a bad name or email', () => {
    expectGastownError(() => newAgent('bad name', 'polecat', 'a@b', AT), 'gastown_bad_input');
    expectGastownError(() => newAgent('nux', 'polecat', 'not-an-email', AT), 'gastown_bad_input');
  });

  it('makes polecat emails', () => {
    expect(polecatEmail('nux')).toBe('nux@polecats.gastown.local');
    expect(polecatEmail('nux', 'example.com')).toBe('nux@example.com');
  });
});
