import { describe, expect, it } from 'vitest';
import { convoyProgress, landConvoy, newConvoy, progressBar } from '../../src/town/convoy.js';
import type { BeadStatus } from '../../src/town/types.js';
import { bead } from './bead-fixture.js';
import { expectGastownError } from './expect-error.js';

const AT = '2026-03-01T12:00:00.000Z';

describe('newConvoy', () => {
  it('is active and approved by default', () => {
    const c = newConvoy({ title: 'Auth', beads: ['gt-a', 'gt-b', 'gt-a'] }, 'cv-1234', AT);

    expect(c).toEqual({
      id: 'cv-1234',
      title: 'Auth',
      beads: ['gt-a', 'gt-b'],
      status: 'active',
      approved: true,
      approvedBy: null,
      source: null,
      planner: 'manual',
      usage: null,
      createdAt: AT,
      updatedAt: AT,
      landedAt: null,
    });
  });

  it('waits for approval when not approved, and keeps source, planner and usage', () => {
    const usage = { inputTokens: 1, outputTokens: 2, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0.01 };
    const source = { kind: 'github' as const, repo: 'o/r', issue: { number: 4, url: 'https://x/4' } };

    const c = newConvoy({ title: 'Auth', beads: [], approved: false, source, planner: 'model', usage }, 'cv-1234', AT);

    expect(c).toMatchObject({ status: 'awaiting_approval', approved: false, source, planner: 'model', usage });
  });

  it('folds a multi-line goal into one title and refuses an empty one', () => {
    expect(newConvoy({ title: ' build\n  the   thing ', beads: [] }, 'cv-1234', AT).title).toBe('build the thing');
    expect(newConvoy({ title: 'y'.repeat(300), beads: [] }, 'cv-1234', AT).title).toHaveLength(256);
    expectGastownError(() => newConvoy({ title: ' \n ', beads: [] }, 'cv-1234', AT), 'gastown_bad_input');
  });
});

describe('convoyProgress and progressBar', () => {
  const ids = Array.from({ length: 20 }, (_, i) => `gt-${i}`);
  const convoy = newConvoy({ title: 'Big', beads: ids }, 'cv-1234', AT);

  it('counts only the convoy beads, and a missing bead as open', () => {
    const statuses: BeadStatus[] = ['closed', 'closed', 'failed', 'in_review', 'hooked', 'in_progress'];
    const beads = [
      ...Array.from({ length: 8 }, (_, i) => bead(`gt-${i}`, { status: statuses[i % 2] })),
      bead('gt-8', { status: 'failed' }),
      bead('gt-9', { status: 'in_review' }),
      bead('gt-10', { status: 'hooked' }),
      bead('gt-11', { status: 'in_progress' }),
      bead('gt-other', { status: 'closed' }),
    ];

    const p = convoyProgress(convoy, beads);

    expect(p).toEqual({
      total: 20,
      closed: 8,
      failed: 1,
      byStatus: { open: 8, hooked: 1, in_progress: 1, in_review: 1, closed: 8, failed: 1 },
      percent: 40,
      done: false,
    });
    expect(progressBar(p)).toBe('[########------------] 8/20 closed (40%)');
    expect(progressBar(p, 10)).toBe('[####------] 8/20 closed (40%)');
  });

  it('rounds down so 100% means done', () => {
    const three = newConvoy({ title: 'T', beads: ['gt-a', 'gt-b', 'gt-c'] }, 'cv-1234', AT);
    const beads = [bead('gt-a', { status: 'closed' }), bead('gt-b', { status: 'closed' }), bead('gt-c')];

    const p = convoyProgress(three, beads);

    expect(p.percent).toBe(66);
    expect(progressBar(p, 3)).toBe('[##-] 2/3 closed (66%)');
  });

  it('is done when every bead is closed', () => {
    const p = convoyProgress(
      convoy,
      ids.map((id) => bead(id, { status: 'closed' })),
    );

    expect(p).toMatchObject({ closed: 20, percent: 100, done: true });
    expect(progressBar(p)).toBe('[####################] 20/20 closed (100%)');
  });

  it('is not done with no beads', () => {
    const p = convoyProgress(newConvoy({ title: 'E', beads: [] }, 'cv-1234', AT), []);

    expect(p).toMatchObject({ total: 0, percent: 0, done: false });
    expect(progressBar(p, 4)).toBe('[----] 0/0 closed (0%)');
  });
});

describe('landConvoy', () => {
  it('lands an active convoy', () => {
    const c = newConvoy({ title: 'T', beads: ['gt-a'] }, 'cv-1234', AT);

    const landed = landConvoy(c, '2026-03-02T00:00:00.000Z');

    expect(landed).toMatchObject({ status: 'landed', landedAt: '2026-03-02T00:00:00.000Z', updatedAt: '2026-03-02T00:00:00.000Z' });
    expect(c.status).toBe('active');
    expect(landConvoy(landed, '2026-03-03T00:00:00.000Z')).toBe(landed);
  });

  it('refuses to land a convoy that was never approved', () => {
    const c = newConvoy({ title: 'T', beads: [], approved: false }, 'cv-1234', AT);

    expectGastownError(() => landConvoy(c, AT), 'gastown_illegal_transition');
  });
});
