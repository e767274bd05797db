import { describe, expect, it } from 'vitest';
import { newBead } from '../../src/town/bead.js';
import { newConvoy } from '../../src/town/convoy.js';
import { entityValidators } from '../../src/town/entity-schemas.js';
import { newMail } from '../../src/town/mail.js';
import { newAgent } from '../../src/town/names.js';
import type { FeedEvent } from '../../src/town/types.js';
import { bead } from './bead-fixture.js';

const AT = '2026-01-01T00:00:00.000Z';

describe('entity validators', () => {
  it('take what the town writes, with extra fields from a newer version', () => {
    const message = newMail({ from: 'mayor', to: 'nux', subject: 'hi' }, 'm-1', AT);
    const event: FeedEvent = { id: 'ev-1', type: 'bead_created', at: AT, actor: 'a', bead: 'gt-1', convoy: null, message: 'm', url: null };
    const good: [keyof typeof entityValidators, unknown][] = [
      ['beads', newBead({ title: 'A bead' }, 'gt-abc', AT)],
      ['beads', { ...bead('gt-abd', { issue: { number: 3, id: 99, url: 'u' } }), addedLater: { x: 1 } }],
      [
        'convoys',
        newConvoy({ title: 'C', beads: ['gt-abc'], source: { kind: 'github', repo: 'o/r', issue: { number: 1, url: 'u' } } }, 'cv-1', AT),
      ],
      ['convoys', { ...newConvoy({ title: 'C', beads: [] }, 'cv-2', AT), materialisedAt: AT, lastError: null, sourceKey: 'local:x' }],
      ['agents', newAgent('nux', 'polecat', 'nux@x', AT)],
      ['hooks', { agent: 'nux', bead: null, slungAt: null, slungBy: null }],
      ['heartbeats', { agent: 'nux', bead: 'gt-abc', runner: 'r1', at: AT }],
      ['meta', { cursor: null, cursorAt: null }],
      ['mail', { message }],
      ['mail', { read: { readId: 'm-1', at: AT } }],
      ['feed', event],
      ['feed', { ...event, type: 'a_type_from_the_future' }],
      ['cursors', { at: AT }],
      ['conversations', { type: 'message', at: AT, role: 'user', content: 'Add a parser' }],
      ['conversations', { type: 'reset', at: AT }],
    ];

    for (const [kind, value] of good) expect(entityValidators[kind](value), `${kind} ${JSON.stringify(value)}`).toBeNull();
  });

  it('answer one line naming the first wrong field', () => {
    expect(entityValidators.beads({ id: 5, labels: 'x' })).toMatch(/^id: .*expected string.* \(and \d+ more\)$/);
    expect(entityValidators.beads({ ...bead('gt-1'), labels: 'x' })).toMatch(/^labels: .*expected array/);
    expect(entityValidators.beads({ ...bead('gt-1'), status: 'lost' })).toMatch(/^status: /);
    expect(entityValidators.beads('x')).not.toBeNull();
    expect(entityValidators.meta([1])).not.toBeNull();
    expect(entityValidators.mail({ message: { id: 'm-1' } })).not.toBeNull();
    expect(entityValidators.feed({ id: 'ev-1' })).not.toBeNull();
    expect(entityValidators.conversations({ type: 'gossip', at: AT })).toMatch(/^type: /);
    for (const kind of Object.keys(entityValidators) as (keyof typeof entityValidators)[]) {
      const problem = entityValidators[kind](null);
      expect(problem).toEqual(expect.any(String));
      expect(problem).not.toContain('\n');
    }
  });
});
