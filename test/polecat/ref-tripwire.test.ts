/**
 * The ref tripwire names what an agent moved that it may not. Ledger refs of kinds deleted
 * outright (a heartbeat when its bead finishes) vanish legitimately while an agent works: other
 * runners finish, and this runner's own sync brings their deletes in. Kinds deleted only by
 * tombstone (a bead) vanishing is still damage. (Found as a claim-race failure: a runner's bead
 * was refused because another polecat's heartbeat was deleted by a sync.)
 */
import { describe, expect, it } from 'vitest';
import { refsMovedByAgent, type RefState } from '../../src/polecat/runner/ref-tripwire.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const remote = { remote: 'origin', tracking: 'refs/remotes/origin/', defaultBranch: 'main' } as never;

function state(rig: Record<string, string>, onRemote: Record<string, string> = {}): RefState {
  return { rig: new Map(Object.entries(rig)), remote: new Map(Object.entries(onRemote)) };
}

const input = (before: RefState, after: RefState) => ({
  rigDir: '/nonexistent',
  remote,
  branch: 'polecat/nux/gt-1a2b',
  ledgerPrefix: 'refs/gastown/',
  tombstoned: (ref: string) => !ref.startsWith('refs/gastown/heartbeats/'),
  start: A,
  tip: null,
  before,
  after,
});

describe('refsMovedByAgent', () => {
  it('lets a heartbeat vanish, in the rig and on the remote', async () => {
    const before = state({ 'refs/gastown/heartbeats/cheedo': B }, { 'refs/gastown/heartbeats/cheedo': B });

    expect(await refsMovedByAgent(input(before, state({}, {})))).toEqual([]);
  });

  it('names a bead that vanished', async () => {
    const before = state({ 'refs/gastown/beads/gt-1a2b': B }, { 'refs/gastown/beads/gt-1a2b': B });

    expect(await refsMovedByAgent(input(before, state({}, {})))).toEqual([
      'refs/gastown/beads/gt-1a2b in the rig was deleted',
      'refs/gastown/beads/gt-1a2b on origin was deleted',
    ]);
  });

  it('still names a heartbeat moved to the commit the workspace started from', async () => {
    const before = state({ 'refs/gastown/heartbeats/cheedo': B });

    expect(await refsMovedByAgent(input(before, state({ 'refs/gastown/heartbeats/cheedo': A })))).toEqual([
      `refs/gastown/heartbeats/cheedo in the rig now points at ${A.slice(0, 12)}, which this workspace made`,
    ]);
  });
});
