import type { Bead } from '../../src/town/types.js';

/** A complete bead with only the fields a test cares about overridden. */
export function bead(id: string, over: Partial<Bead> = {}): Bead {
  return {
    id,
    title: `bead ${id}`,
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
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}
