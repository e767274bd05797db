import { describe, expect, it } from 'vitest';
import { pushVerdict } from '../../src/ledger/push-ledger.js';

describe('pushVerdict', () => {
  it('counts a ref the remote moved or locked under a concurrent push as a lost race (fetch, merge, retry)', () => {
    // What a file:// remote answered when the app and a polecat run pushed one bead at once.
    expect(pushVerdict('!', '[remote rejected] (failed to update ref)')).toBe('raced');
    expect(pushVerdict('!', "[remote rejected] (cannot lock ref 'refs/gastown/beads/gt-0b9p': is at 762d but expected afc0)")).toBe(
      'raced',
    );
    expect(pushVerdict('!', '[rejected] (fetch first)')).toBe('raced');
    expect(pushVerdict('!', '[rejected] (stale info)')).toBe('raced');
  });

  it('keeps other refusals final, and anything else pushed', () => {
    expect(pushVerdict('!', '[remote rejected] (pre-receive hook declined)')).toBe('refused');
    expect(pushVerdict('!', '[remote rejected] (protected branch hook declined)')).toBe('refused');
    expect(pushVerdict('*', '[new reference]')).toBe('ok');
    expect(pushVerdict(' ', 'abc..def')).toBe('ok');
    expect(pushVerdict('+', 'abc...def (forced update)')).toBe('ok');
  });
});
