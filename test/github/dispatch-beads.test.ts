import { describe, expect, it } from 'vitest';
import { defaultRepoConfig } from '../../src/config/repo-config.js';
import type { ForgePort } from '../../src/forge/forge-port.js';
import { dispatchBeads } from '../../src/github/dispatch-beads.js';
import type { PendingDispatch } from '../../src/rig/town-service.js';
import { InMemoryTown } from '../support/in-memory-town.js';
import type { Bead } from '../../src/town/types.js';
import { silentLog } from './harness.js';

function pending(id: string): PendingDispatch {
  return { bead: { id } as Bead, polecat: 'nux', key: `dispatched:nux@${id}` };
}

function scope(calls: string[]) {
  const forge = {
    dispatchWorkflow: async (input: { inputs: { bead: string } }) => void calls.push(`dispatch ${input.inputs.bead}`),
  } as unknown as ForgePort;
  return { forge, config: defaultRepoConfig(), defaultBranch: 'main', log: silentLog };
}

describe('dispatchBeads', () => {
  it('marks each run dispatched by this replica and pushes the marks before the first workflow run is dispatched, once per pass', async () => {
    const calls: string[] = [];
    const town = new InMemoryTown();
    town.pending = [pending('gt-aaa'), pending('gt-bbb')];
    const marks = new Map<string, string>();
    town.markDispatched = async (p, by) => void (calls.push(`mark ${p.bead.id} by ${by}`), marks.set(p.bead.id, by ?? ''));
    town.dispatchersOf = async (p) => [marks.get(p.bead.id)!];
    const services = { town, publish: async () => void calls.push('publish'), replica: 'r1' };

    const dispatched = await dispatchBeads(scope(calls), services);

    expect(dispatched).toEqual(['gt-aaa', 'gt-bbb']);
    expect(calls).toEqual(['mark gt-aaa by r1', 'mark gt-bbb by r1', 'publish', 'dispatch gt-aaa', 'dispatch gt-bbb']);
  });

  it('leaves a run to the replica whose mark reached the remote first (the merged bead carries two marks)', async () => {
    const calls: string[] = [];
    const town = new InMemoryTown();
    town.pending = [pending('gt-aaa'), pending('gt-bbb')];
    town.markDispatched = async (p, by) => void calls.push(`mark ${p.bead.id} by ${by}`);
    town.dispatchersOf = async (p) => (p.bead.id === 'gt-aaa' ? ['r0', 'r1'] : ['r1']);
    const services = { town, publish: async () => void calls.push('publish'), replica: 'r1' };

    expect(await dispatchBeads(scope(calls), services)).toEqual(['gt-bbb']);
    expect(calls).toEqual(['mark gt-aaa by r1', 'mark gt-bbb by r1', 'publish', 'dispatch gt-bbb']);
  });

  it('dispatches nothing when the ledger cannot be pushed (and takes its marks back), and pushes nothing when there is nothing to dispatch', async () => {
    const calls: string[] = [];
    const busy = new InMemoryTown();
    busy.pending = [pending('gt-aaa')];
    busy.beads.set('gt-aaa', { id: 'gt-aaa', labels: [] } as unknown as Bead);
    const failing = { town: busy, publish: async () => Promise.reject(new Error('remote down')), replica: 'r1' };
    const idle = { town: new InMemoryTown(), publish: async () => void calls.push('publish') };

    expect(await dispatchBeads(scope(calls), failing)).toEqual([]);
    expect(busy.calls).toEqual(['markDispatched gt-aaa', 'unmarkDispatched gt-aaa']);
    expect(busy.beads.get('gt-aaa')!.labels).toEqual([]);
    expect(await dispatchBeads(scope(calls), idle)).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('a dispatch GitHub refuses takes back the marks of that run and the ones after it: they stay pending', async () => {
    const town = new InMemoryTown();
    town.pending = [pending('gt-aaa'), pending('gt-bbb'), pending('gt-ccc')];
    for (const p of town.pending) town.beads.set(p.bead.id, { id: p.bead.id, labels: [] } as unknown as Bead);
    const calls: string[] = [];
    const s = scope(calls);
    s.forge = {
      dispatchWorkflow: async (input: { inputs: { bead: string } }) => {
        if (input.inputs.bead === 'gt-bbb') throw new Error('GitHub is down');
        calls.push(`dispatch ${input.inputs.bead}`);
      },
    } as unknown as ForgePort;

    expect(await dispatchBeads(s, { town, publish: async () => undefined, replica: 'r1' })).toEqual(['gt-aaa']);
    expect(calls).toEqual(['dispatch gt-aaa']);
    expect([...town.beads.values()].map((b) => [b.id, b.labels])).toEqual([
      ['gt-aaa', ['dispatched:nux@gt-aaa#r1']],
      ['gt-bbb', []],
      ['gt-ccc', []],
    ]);
  });
});
