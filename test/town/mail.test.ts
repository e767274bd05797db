import { describe, expect, it } from 'vitest';
import { newMail, unreadMessages } from '../../src/town/mail.js';
import { expectGastownError } from './expect-error.js';

const AT = '2026-03-01T12:00:00.000Z';

describe('newMail', () => {
  it('fills defaults', () => {
    expect(newMail({ from: 'nux', to: 'mayor', subject: ' Done ' }, 'm-1', AT)).toEqual({
      id: 'm-1',
      kind: 'mail',
      from: 'nux',
      to: 'mayor',
      subject: 'Done',
      body: '',
      type: null,
      bead: null,
      createdAt: AT,
    });
  });

  it('keeps kind, type and bead', () => {
    const m = newMail(
      { from: 'mayor', to: 'nux', subject: 'hurry', body: 'b', type: 'POLECAT_DONE', bead: 'gt-ab12', kind: 'nudge' },
      'm-2',
      AT,
    );

    expect(m).toMatchObject({ kind: 'nudge', type: 'POLECAT_DONE', bead: 'gt-ab12', body: 'b' });
  });

  it.each([
    [{ from: 'bad name', to: 'mayor', subject: 's' }, /from must be an agent name/],
    [{ from: 'nux', to: '-mayor', subject: 's' }, /to must be an agent name/],
    [{ from: 'nux', to: 'x'.repeat(65), subject: 's' }, /to must be an agent name/],
    [{ from: 'nux', to: 'mayor', subject: '   ' }, /subject must not be empty/],
    [{ from: 'nux', to: 'mayor', subject: 's'.repeat(201) }, /at most 200/],
  ])('refuses %j', (input, message) => {
    const err = expectGastownError(() => newMail(input, 'm-1', AT), 'gastown_bad_input');

    expect(err.message).toMatch(message);
  });

  it('accepts names with dots, dashes and underscores, and a 200-character subject', () => {
    expect(() => newMail({ from: 'nux-2', to: 'ann.b_c', subject: 's'.repeat(200) }, 'm-1', AT)).not.toThrow();
  });
});

describe('unreadMessages', () => {
  it('drops messages with a read mark and keeps order', () => {
    const messages = ['m-1', 'm-2', 'm-3'].map((id) => newMail({ from: 'a', to: 'b', subject: id }, id, AT));

    const unread = unreadMessages(messages, [
      { readId: 'm-2', at: AT },
      { readId: 'm-9', at: AT },
    ]);

    expect(unread.map((m) => m.id)).toEqual(['m-1', 'm-3']);
  });
});
