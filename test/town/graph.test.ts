import { describe, expect, it } from 'vitest';
import { isGastownError } from '../../src/errors.js';
import { assertNoCycleWith, blockersOf, dependentsOf, findCycle, newlyReady, readyBeads, topoOrder } from '../../src/town/graph.js';
import { bead } from './bead-fixture.js';

const ids = (beads: { id: string }[]) => beads.map((b) => b.id);

function expectCycleThrown(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    expect(isGastownError(err, 'gastown_cycle')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected a gastown_cycle error');
}

/** A cycle is valid when each id is blocked by the next and the last by the first. */
function expectValidCycle(cycle: string[] | null, nodes: { id: string; blockedBy: readonly string[] }[]): void {
  expect(cycle).not.toBeNull();
  const edges = new Map(nodes.map((n) => [n.id, n.blockedBy]));
  cycle!.forEach((id, i) => {
    expect(edges.get(id)).toContain(cycle![(i + 1) % cycle!.length]);
  });
}

describe('findCycle', () => {
  it('returns null for an acyclic graph (diamond)', () => {
    const nodes = [
      { id: 'a', blockedBy: [] },
      { id: 'b', blockedBy: ['a'] },
      { id: 'c', blockedBy: ['a'] },
      { id: 'd', blockedBy: ['b', 'c'] },
    ];

    expect(findCycle(nodes)).toBeNull();
  });

  it('finds a self-loop', () => {
    expect(findCycle([{ id: 'a', blockedBy: ['a'] }])).toEqual(['a']);
  });

  it('finds a three-node cycle behind an acyclic prefix', () => {
    const nodes = [
      { id: 'x', blockedBy: ['a'] },
      { id: 'a', blockedBy: ['b'] },
      { id: 'b', blockedBy: ['c'] },
      { id: 'c', blockedBy: ['a'] },
    ];

    const cycle = findCycle(nodes);

    expectValidCycle(cycle, nodes);
    expect([...cycle!].sort()).toEqual(['a', 'b', 'c']);
  });

  it('ignores edges to unknown ids', () => {
    expect(
      findCycle([
        { id: 'a', blockedBy: ['ghost'] },
        { id: 'b', blockedBy: ['a', 'ghost'] },
      ]),
    ).toBeNull();
  });

  it('merges duplicate ids so a repeated node cannot hide a cycle', () => {
    const nodes = [
      { id: 'a', blockedBy: [] },
      { id: 'b', blockedBy: ['a'] },
      { id: 'a', blockedBy: ['b'] },
    ];

    expect([...findCycle(nodes)!].sort()).toEqual(['a', 'b']);
  });

  it('handles a 10,000-node chain without overflowing the stack', () => {
    const nodes = Array.from({ length: 10_000 }, (_, i) => ({ id: `n${i}`, blockedBy: i === 0 ? [] : [`n${i - 1}`] }));

    expect(findCycle(nodes)).toBeNull();

    nodes[0] = { id: 'n0', blockedBy: ['n9999'] };
    const cycle = findCycle(nodes);
    expect(cycle).toHaveLength(10_000);
    expectValidCycle(cycle, nodes);
  });
});

describe('readyBeads', () => {
  it('is ready only when every blocker is closed, along a chain', () => {
    const beads = [bead('gt-a', { status: 'closed' }), bead('gt-b', { blockedBy: ['gt-a'] }), bead('gt-c', { blockedBy: ['gt-b'] })];

    expect(ids(readyBeads(beads))).toEqual(['gt-b']);
  });

  it('waits for both sides of a diamond', () => {
    const beads = [
      bead('gt-a', { status: 'closed' }),
      bead('gt-b', { blockedBy: ['gt-a'], status: 'closed' }),
      bead('gt-c', { blockedBy: ['gt-a'], status: 'in_review' }),
      bead('gt-d', { blockedBy: ['gt-b', 'gt-c'] }),
    ];

    expect(ids(readyBeads(beads))).toEqual([]);

    beads[2] = { ...beads[2]!, status: 'closed' };
    expect(ids(readyBeads(beads))).toEqual(['gt-d']);
  });

  it('treats a missing blocker as not satisfied', () => {
    expect(readyBeads([bead('gt-a', { blockedBy: ['gt-gone'] })])).toEqual([]);
  });

  it('includes only open beads', () => {
    const beads = (['open', 'hooked', 'in_progress', 'in_review', 'closed', 'failed'] as const).map((status) =>
      bead(`gt-${status}`, { status }),
    );

    expect(ids(readyBeads(beads))).toEqual(['gt-open']);
  });

  it('sorts by priority, then createdAt, then id', () => {
    const beads = [
      bead('gt-late', { priority: 1, createdAt: '2026-01-02T00:00:00.000Z' }),
      bead('gt-low', { priority: 4 }),
      bead('gt-b', { priority: 1, createdAt: '2026-01-01T00:00:00.000Z' }),
      bead('gt-a', { priority: 1, createdAt: '2026-01-01T00:00:00.000Z' }),
      bead('gt-urgent', { priority: 0, createdAt: '2026-02-01T00:00:00.000Z' }),
    ];

    expect(ids(readyBeads(beads))).toEqual(['gt-urgent', 'gt-a', 'gt-b', 'gt-late', 'gt-low']);
  });

  it('stays linear over 10,000 beads with many edges', () => {
    const beads = Array.from({ length: 10_000 }, (_, i) =>
      bead(`gt-${i}`, {
        status: i % 2 === 0 ? 'closed' : 'open',
        // Odd beads wait on five closed even beads; every other odd one also on an open bead.
        blockedBy:
          i % 2 === 1
            ? [...Array.from({ length: 5 }, (_, k) => `gt-${(i + 1 + 2 * k) % 10_000}`), ...(i % 4 === 3 ? [`gt-${i - 2}`] : [])]
            : [],
      }),
    );

    const started = performance.now();
    const ready = readyBeads(beads);
    const elapsed = performance.now() - started;

    expect(ready).toHaveLength(2_500);
    expect(ready.every((b) => Number(b.id.slice(3)) % 4 === 1)).toBe(true);
    expect(elapsed).toBeLessThan(500);
  });
});

describe('blockersOf / dependentsOf / newlyReady', () => {
  it('splits blockers into open and missing', () => {
    const beads = [bead('gt-a', { status: 'closed' }), bead('gt-b', { status: 'in_progress' })];
    const subject = bead('gt-c', { blockedBy: ['gt-a', 'gt-b', 'gt-x'] });

    expect(blockersOf(subject, new Map(beads.map((b) => [b.id, b])))).toEqual({ open: ['gt-b'], missing: ['gt-x'] });
  });

  it('lists the dependents of a bead', () => {
    const beads = [bead('gt-a'), bead('gt-b', { blockedBy: ['gt-a'] }), bead('gt-c', { blockedBy: ['gt-b', 'gt-a'] })];

    expect(ids(dependentsOf(beads, 'gt-a'))).toEqual(['gt-b', 'gt-c']);
    expect(ids(dependentsOf(beads, 'gt-c'))).toEqual([]);
  });

  it('reports what became ready when a bead closed', () => {
    const before = [
      bead('gt-a', { status: 'in_review' }),
      bead('gt-b', { blockedBy: ['gt-a'] }),
      bead('gt-c', { blockedBy: ['gt-a'], priority: 0 }),
      bead('gt-z'),
    ];
    const after = before.map((b) => (b.id === 'gt-a' ? { ...b, status: 'closed' as const } : b));

    expect(ids(newlyReady(before, after))).toEqual(['gt-c', 'gt-b']);
  });
});

describe('assertNoCycleWith', () => {
  const beads = [bead('gt-a'), bead('gt-b', { blockedBy: ['gt-a'] }), bead('gt-c', { blockedBy: ['gt-b'] })];

  it('refuses a self-dependency', () => {
    expect(expectCycleThrown(() => assertNoCycleWith(beads, 'gt-a', ['gt-a']))).toContain('gt-a');
  });

  it('refuses an edge that closes a cycle and names it', () => {
    const message = expectCycleThrown(() => assertNoCycleWith(beads, 'gt-a', ['gt-c']));

    expect(message).toContain('gt-a -> gt-c -> gt-b -> gt-a');
  });

  it('accepts edges that keep the graph acyclic, even to unknown ids', () => {
    expect(() => assertNoCycleWith(beads, 'gt-c', ['gt-a', 'gt-unknown'])).not.toThrow();
    expect(() => assertNoCycleWith(beads, 'gt-new', ['gt-c'])).not.toThrow();
  });

  it('does not blame the new edge for an unrelated existing cycle', () => {
    const withCycle = [...beads, bead('gt-x', { blockedBy: ['gt-y'] }), bead('gt-y', { blockedBy: ['gt-x'] })];

    expect(() => assertNoCycleWith(withCycle, 'gt-c', ['gt-a'])).not.toThrow();
  });

  it('catches a cycle through a bead that does not exist yet', () => {
    // gt-a already names gt-new as a blocker; making gt-new wait on gt-c closes the loop.
    const pending = [bead('gt-a', { blockedBy: ['gt-new'] }), ...beads.slice(1)];

    expect(expectCycleThrown(() => assertNoCycleWith(pending, 'gt-new', ['gt-c']))).toContain('gt-new -> gt-c -> gt-b -> gt-a -> gt-new');
  });
});

describe('topoOrder', () => {
  it('puts blockers first and breaks ties by id', () => {
    const nodes = [
      { id: 'd', blockedBy: ['b', 'c'] },
      { id: 'c', blockedBy: ['a'] },
      { id: 'b', blockedBy: ['a'] },
      { id: 'a', blockedBy: [] },
      { id: 'e', blockedBy: ['ghost'] },
    ];

    expect(topoOrder(nodes)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('throws gastown_cycle naming the cycle', () => {
    const message = expectCycleThrown(() =>
      topoOrder([
        { id: 'a', blockedBy: ['b'] },
        { id: 'b', blockedBy: ['a'] },
      ]),
    );

    expect(message).toMatch(/a -> b -> a|b -> a -> b/);
  });

  it('orders a 10,000-node reversed chain', () => {
    const nodes = Array.from({ length: 10_000 }, (_, i) => ({
      id: `n${String(i).padStart(5, '0')}`,
      blockedBy: i === 9_999 ? [] : [`n${String(i + 1).padStart(5, '0')}`],
    }));

    const order = topoOrder(nodes);

    expect(order[0]).toBe('n09999');
    expect(order[9_999]).toBe('n00000');
  });
});
