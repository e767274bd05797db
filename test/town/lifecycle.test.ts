import { describe, expect, it } from 'vitest';
import { BEAD_TRANSITIONS, canTransition, transitionBead } from '../../src/town/lifecycle.js';
import { BEAD_STATUSES, type BeadStatus } from '../../src/town/types.js';
import { bead } from './bead-fixture.js';
import { expectGastownError } from './expect-error.js';

const AT = '2026-03-01T12:00:00.000Z';

const LEGAL: Array<[BeadStatus, BeadStatus]> = [
  ['open', 'hooked'],
  ['hooked', 'in_progress'],
  ['hooked', 'open'],
  ['in_progress', 'in_review'],
  ['in_progress', 'open'],
  ['in_progress', 'hooked'],
  ['in_progress', 'failed'],
  ['in_review', 'closed'],
  ['in_review', 'open'],
  ['in_review', 'hooked'],
  ['in_review', 'failed'],
  ['open', 'closed'],
  ['hooked', 'closed'],
  ['in_progress', 'closed'],
  ['failed', 'closed'],
  ['closed', 'open'],
  ['failed', 'open'],
];
const legalKeys = new Set(LEGAL.map(([f, t]) => `${f}>${t}`));
const ALL_PAIRS = BEAD_STATUSES.flatMap((from) => BEAD_STATUSES.map((to) => [from, to] as [BeadStatus, BeadStatus]));
const ILLEGAL = ALL_PAIRS.filter(([f, t]) => !legalKeys.has(`${f}>${t}`));

describe('bead transitions', () => {
  it('the table holds exactly the legal transitions', () => {
    const table = [...BEAD_TRANSITIONS].flatMap(([from, tos]) => [...tos].map((to) => `${from}>${to}`));

    expect(table.sort()).toEqual([...legalKeys].sort());
    expect(ILLEGAL).toHaveLength(36 - 17);
  });

  it.each(LEGAL)('allows %s -> %s', (from, to) => {
    const before = bead('gt-ab12', { status: from, assignee: 'nux' });

    const after = transitionBead(before, to, AT);

    expect(canTransition(from, to)).toBe(true);
    expect(after.status).toBe(to);
    expect(after.updatedAt).toBe(AT);
    expect(before.status).toBe(from);
  });

  it.each(ILLEGAL)('refuses %s -> %s with gastown_illegal_transition', (from, to) => {
    const before = bead('gt-ab12', { status: from });

    const err = expectGastownError(() => transitionBead(before, to, AT), 'gastown_illegal_transition');

    expect(canTransition(from, to)).toBe(false);
    expect(err.message).toBe(`bead gt-ab12 cannot go from ${from} to ${to}`);
    expect(err.details).toEqual({ bead: 'gt-ab12', from, to });
  });
});

describe('transitionBead', () => {
  it('returns a new bead and never mutates the old one', () => {
    const before = bead('gt-ab12', { labels: ['x'] });
    const snapshot = structuredClone(before);

    const after = transitionBead(before, 'hooked', AT, { assignee: 'nux' });
    after.labels.push('y');

    expect(after).not.toBe(before);
    expect(before).toEqual(snapshot);
    expect(after.assignee).toBe('nux');
  });

  it('keeps the assignee while a polecat holds the bead', () => {
    const after = transitionBead(bead('gt-ab12', { status: 'hooked', assignee: 'nux' }), 'in_progress', AT, {
      branch: 'polecat/nux/gt-ab12',
      attempts: 1,
    });

    expect(after).toMatchObject({ assignee: 'nux', branch: 'polecat/nux/gt-ab12', attempts: 1 });
  });

  it.each(['open', 'closed', 'failed'] as const)('clears the assignee when going to %s', (to) => {
    const from: BeadStatus = to === 'open' ? 'hooked' : 'in_progress';

    expect(transitionBead(bead('gt-ab12', { status: from, assignee: 'nux' }), to, AT).assignee).toBeNull();
  });

  it('keeps an assignee the patch sets explicitly even when going to open', () => {
    const after = transitionBead(bead('gt-ab12', { status: 'hooked', assignee: 'nux' }), 'open', AT, { assignee: 'slit' });

    expect(after.assignee).toBe('slit');
  });

  it('sets closeReason only when closing, and drops it on reopen', () => {
    const closed = transitionBead(bead('gt-ab12', { status: 'in_review' }), 'closed', AT, { closeReason: 'merged' });
    const reopened = transitionBead(closed, 'open', AT, { closeReason: 'ignored' });
    const failed = transitionBead(bead('gt-ab12', { status: 'in_progress' }), 'failed', AT, { closeReason: 'x' });

    expect(closed.closeReason).toBe('merged');
    expect(reopened.closeReason).toBeNull();
    expect(failed.closeReason).toBeNull();
  });

  it('cannot patch the id, createdAt, status or updatedAt', () => {
    const after = transitionBead(bead('gt-ab12'), 'hooked', AT, {
      id: 'gt-zzzz',
      createdAt: 'x',
      status: 'closed',
      updatedAt: 'y',
    });

    expect(after).toMatchObject({ id: 'gt-ab12', createdAt: '2026-01-01T00:00:00.000Z', status: 'hooked', updatedAt: AT });
  });
});
