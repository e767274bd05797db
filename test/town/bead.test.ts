import { describe, expect, it } from 'vitest';
import { applyBeadPatch, newBead } from '../../src/town/bead.js';
import { expectGastownError } from './expect-error.js';

const AT = '2026-03-01T12:00:00.000Z';
const LATER = '2026-03-02T12:00:00.000Z';

describe('newBead', () => {
  it('fills defaults for a minimal input', () => {
    const b = newBead({ title: '  Add login page  ' }, 'gt-ab12', AT);

    expect(b).toEqual({
      id: 'gt-ab12',
      title: 'Add login page',
      body: '',
      status: 'open',
      priority: 2,
      labels: [],
      blockedBy: [],
      parent: null,
      convoy: null,
      key: null,
      acceptance: [],
      files: [],
      assignee: null,
      branch: null,
      issue: null,
      pr: null,
      attempts: 0,
      closeReason: null,
      createdAt: AT,
      updatedAt: AT,
    });
  });

  it('keeps and deduplicates the optional fields', () => {
    const b = newBead(
      {
        title: 'Login',
        body: 'Do it.',
        priority: 0,
        labels: ['ui', 'ui', ' auth '],
        blockedBy: ['gt-aaaa', 'gt-aaaa', 'gt-bbbb'],
        parent: 'gt-pppp',
        convoy: 'cv-1234',
        key: 'login',
        acceptance: ['renders', '', 'renders'],
        files: ['src/a.ts'],
      },
      'gt-ab12',
      AT,
    );

    expect(b).toMatchObject({
      body: 'Do it.',
      priority: 0,
      labels: ['ui', 'auth'],
      blockedBy: ['gt-aaaa', 'gt-bbbb'],
      parent: 'gt-pppp',
      convoy: 'cv-1234',
      key: 'login',
      acceptance: ['renders'],
      files: ['src/a.ts'],
    });
  });

  it.each([
    [{ title: '   ' }, /title must not be empty/],
    [{ title: 'x'.repeat(257) }, /at most 256/],
    [{ title: 'two\nlines' }, /single line/],
    [{ title: 't', priority: 5 }, /priority/],
    [{ title: 't', priority: 1.5 }, /priority/],
    [{ title: 't', priority: -1 }, /priority/],
    [{ title: 't', labels: ['a,b'] }, /comma/],
    [{ title: 't', labels: [''] }, /labels must not be empty/],
    [{ title: 't', blockedBy: ['gt-ab12'] }, /gt-ab12 cannot be blocked by itself/],
    [{ title: 't', parent: 'gt-ab12' }, /its own parent/],
  ])('refuses %j', (input, message) => {
    const err = expectGastownError(() => newBead(input, 'gt-ab12', AT), 'gastown_bad_input');

    expect(err.message).toMatch(message);
    expect(err.message).toMatch(/^bad bead gt-ab12: /);
    expect(err.message).not.toContain('\n');
  });

  it('accepts a title of exactly 256 characters', () => {
    expect(newBead({ title: 'x'.repeat(256) }, 'gt-ab12', AT).title).toHaveLength(256);
  });
});

describe('applyBeadPatch', () => {
  const base = newBead({ title: 'Login', labels: ['ui', 'auth'] }, 'gt-ab12', AT);

  it('edits title, body and priority and bumps updatedAt', () => {
    const b = applyBeadPatch(base, { title: ' New ', body: 'b', priority: 1 }, LATER);

    expect(b).toMatchObject({ title: 'New', body: 'b', priority: 1, updatedAt: LATER, status: 'open' });
    expect(base.title).toBe('Login');
  });

  it('replaces, adds and removes labels', () => {
    expect(applyBeadPatch(base, { addLabels: ['p1', 'ui'] }, LATER).labels).toEqual(['ui', 'auth', 'p1']);
    expect(applyBeadPatch(base, { removeLabels: ['ui'] }, LATER).labels).toEqual(['auth']);
    expect(applyBeadPatch(base, { labels: ['x'], addLabels: ['y'], removeLabels: ['x'] }, LATER).labels).toEqual(['y']);
  });

  it('returns the same bead when nothing changes', () => {
    expect(applyBeadPatch(base, { title: 'Login', addLabels: ['ui'], removeLabels: ['nope'] }, LATER)).toBe(base);
  });

  it('validates like newBead', () => {
    expectGastownError(() => applyBeadPatch(base, { title: '' }, LATER), 'gastown_bad_input');
    expectGastownError(() => applyBeadPatch(base, { priority: 9 }, LATER), 'gastown_bad_input');
    expectGastownError(() => applyBeadPatch(base, { addLabels: ['a,b'] }, LATER), 'gastown_bad_input');
  });

  it('ignores a status smuggled into the patch', () => {
    const patch = { title: 'X', status: 'closed' } as unknown as Parameters<typeof applyBeadPatch>[1];

    expect(applyBeadPatch(base, patch, LATER).status).toBe('open');
  });
});
