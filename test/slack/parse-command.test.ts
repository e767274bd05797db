import { describe, expect, it } from 'vitest';
import { DEFAULT_LIST_LIMIT, parseGtCommand, usageText } from '../../src/slack/parse-command.js';

describe('parseGtCommand: valid commands', () => {
  it.each([
    ['', { kind: 'help' }],
    ['   ', { kind: 'help' }],
    ['help', { kind: 'help' }],
    ['HELP', { kind: 'help' }],
    ['status', { kind: 'status' }],
    ['status acme/web', { kind: 'status', repo: 'acme/web' }],
    ['convoy cv-9z8y', { kind: 'convoy', convoy: 'cv-9z8y' }],
    ['convoy CV-9Z8Y', { kind: 'convoy', convoy: 'cv-9z8y' }],
    ['ready', { kind: 'ready' }],
    ['feed', { kind: 'feed', limit: DEFAULT_LIST_LIMIT }],
    ['feed 25', { kind: 'feed', limit: 25 }],
    ['trail', { kind: 'trail', limit: DEFAULT_LIST_LIMIT }],
    ['trail 3', { kind: 'trail', limit: 3 }],
    ['sling gt-a1b2', { kind: 'sling', bead: 'gt-a1b2' }],
    ['sling  gt-a1b2c3   nux', { kind: 'sling', bead: 'gt-a1b2c3', polecat: 'nux' }],
    ['approve cv-1a2b', { kind: 'approve', convoy: 'cv-1a2b' }],
    ['stop cv-abc123', { kind: 'stop', convoy: 'cv-abc123' }],
    ['budget cv-abc123 +$5', { kind: 'budget', convoy: 'cv-abc123', amount: '+$5' }],
    ['estop', { kind: 'estop', release: false }],
    ['estop release acme/web', { kind: 'estop', release: true, repo: 'acme/web' }],
    ['mail inbox', { kind: 'mail_inbox' }],
    ['mail send nux please rebase', { kind: 'mail_send', to: 'nux', text: 'please rebase' }],
    ['nudge furiosa  check   the tests', { kind: 'nudge', polecat: 'furiosa', text: 'check   the tests' }],
  ])('%j', (input, expected) => {
    expect(parseGtCommand(input)).toEqual(expected);
  });

  it('takes a quoted goal with --repo', () => {
    expect(parseGtCommand('sling "Add dark mode to settings" --repo acme/web')).toEqual({
      kind: 'sling_goal',
      goal: 'Add dark mode to settings',
      repo: 'acme/web',
    });
  });

  it('accepts smart quotes, as macOS and iOS Slack clients type them', () => {
    expect(parseGtCommand('sling “Add dark mode” --repo acme/web')).toEqual({
      kind: 'sling_goal',
      goal: 'Add dark mode',
      repo: 'acme/web',
    });
  });

  it('accepts a half-converted pair of quotes and --repo before the goal', () => {
    expect(parseGtCommand('sling --repo=acme/web “Fix the flaky test"')).toEqual({
      kind: 'sling_goal',
      goal: 'Fix the flaky test',
      repo: 'acme/web',
    });
  });

  it('unescapes what Slack escapes in command text', () => {
    expect(parseGtCommand('sling "Support &lt;details&gt; &amp; summaries" --repo acme/web')).toMatchObject({
      goal: 'Support <details> & summaries',
    });
    expect(parseGtCommand('mail send nux a &amp; b')).toMatchObject({ text: 'a & b' });
  });

  it('keeps quotes inside mail text as typed', () => {
    expect(parseGtCommand('mail send mayor please plan "dark mode" next')).toEqual({
      kind: 'mail_send',
      to: 'mayor',
      text: 'please plan "dark mode" next',
    });
  });
});

describe('parseGtCommand: bad input', () => {
  it.each([
    ['frobnicate', /unknown command `frobnicate`/],
    ['status acme', /owner\/repo/],
    ['status a/b c/d', /at most one/],
    ['convoy', /one convoy id/],
    ['convoy gt-a1b2', /cv-a1b2/],
    ['convoy cv-1 cv-2', /one convoy id/],
    ['approve', /one convoy id/],
    ['approve cv-', /cv-a1b2/],
    ['stop cv_1', /cv-a1b2/],
    ['budget cv-abc123', /usage: `\/gt budget <cv-id> <amount>`/],
    ['estop now please', /usage: `\/gt estop \[release\] \[owner\/repo\]`/],
    ['estop acme', /owner\/repo/],
    ['ready now', /no arguments/],
    ['feed ten', /takes a number/],
    ['feed 0', /limit: give a number from 1 to 50/],
    ['feed 51', /from 1 to 50/],
    ['feed 1 2', /at most one number/],
    ['trail -1', /takes a number/],
    ['sling', /bead id/],
    ['sling gt-ab', /not a bead id/],
    ['sling gt-ABC!', /not a bead id/],
    ['sling add dark mode', /not a bead id/],
    ['sling gt-a1b2 nux extra', /at most two/],
    ['sling gt-a1b2 n@x', /polecat/],
    ['sling gt-a1b2 --repo acme/web', /quoted goal/],
    ['sling "dark mode"', /needs `--repo/],
    ['sling "dark mode" --repo', /needs a value/],
    ['sling "dark mode" --repo acme', /owner\/repo/],
    ['sling "" --repo acme/web', /empty/],
    ['sling "dark mode" more --repo acme/web', /whole goal in quotes/],
    ['sling "dark mode --repo acme/web', /unbalanced quotes/],
    ['sling "dark mode" --force', /unknown option `--force`/],
    ['mail', /usage/],
    ['mail read', /usage/],
    ['mail inbox extra', /no arguments/],
    ['mail send nux', /usage/],
    ['mail send n!x hello', /to:/],
    ['nudge furiosa', /usage/],
    ['nudge fu/riosa go', /polecat/],
  ])('%j is invalid', (input, error) => {
    const parsed = parseGtCommand(input);

    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' && parsed.error).toMatch(error);
  });

  it('bounds message length', () => {
    const parsed = parseGtCommand(`nudge nux ${'x'.repeat(4001)}`);

    expect(parsed).toEqual({ kind: 'invalid', error: expect.stringMatching(/under 4000/) });
  });
});

describe('usageText', () => {
  it('documents every command', () => {
    const text = usageText();

    for (const cmd of [
      'help',
      'status',
      'convoy',
      'ready',
      'feed',
      'trail',
      'sling <gt-id>',
      'sling "<goal>" --repo',
      'approve',
      'stop',
      'budget',
      'estop',
      'mail inbox',
      'mail send',
      'nudge',
    ]) {
      expect(text).toContain(`/gt ${cmd}`);
    }
  });
});
