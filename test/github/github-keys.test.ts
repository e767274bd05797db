import { describe, expect, it } from 'vitest';
import { githubSourceKey, STATUS_COMMENT, statusCommentOf } from '../../src/github/github-keys.js';
import { newConvoy } from '../../src/town/convoy.js';
import type { Convoy } from '../../src/town/types.js';
import { entityValidators } from '../../src/town/entity-schemas.js';

const convoy = (): Convoy =>
  newConvoy({ title: 'T', beads: ['gt-1a2b'], approved: true, planner: 'model' }, 'cv-1a2b', '2026-01-01T00:00:00.000Z');

describe("GitHub's records on a convoy", () => {
  it('the status comment id is a mark GitHub owns; the town has no field for it', () => {
    const c = convoy();
    expect(statusCommentOf(c)).toBeNull();
    expect(statusCommentOf({ ...c, marks: { [STATUS_COMMENT]: 777 } })).toBe(777);
    expect(Object.keys(c)).not.toContain('statusCommentId');
  });

  it('a convoy written before marks keeps its status comment (no second comment is made)', () => {
    const legacy = { ...convoy(), statusCommentId: 555, slackThreadTs: '1700000000.000100' } as Convoy;
    expect(entityValidators.convoys!(legacy)).toBeNull();
    expect(statusCommentOf(legacy)).toBe(555);
  });

  it('source keys name the parent issue', () => {
    expect(githubSourceKey('acme/web', 12)).toBe('github:acme/web#12');
  });
});
