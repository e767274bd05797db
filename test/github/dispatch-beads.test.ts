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
  it('pushes the ledger before the first workflow run is dispatched, once per pass', async () => {
    const calls: string[] = [];
    const town = new InMemoryTown();
    town.pending = [pending('gt-aaa'), pending('gt-bbb')];
    town.markDispatched = async (p) => void calls.push(`mark ${p.bead.id}`);
    const services = { town, publish: async () => void calls.push('publish') };

    const dispatched = await dispatchBeads(scope(calls), services);

    expect(dispatched).toEqual(['gt-aaa', 'gt-bbb']);
    expect(calls).toEqual(['publish', 'dispatch gt-aaa', 'mark gt-aaa', 'dispatch gt-bbb', 'mark gt-bbb']);
  });

  it('dispatches nothing when the ledger cannot be pushed, and pushes nothing when there is nothing to dispatch', async () => {
    const calls: string[] = [];
    const busy = new InMemoryTown();
    busy.pending = [pending('gt-aaa')];
    const failing = { town: busy, publish: async () => Promise.reject(new Error('remote down')) };
    const idle = { town: new InMemoryTown(), publish: async () => void calls.push('publish') };

    expect(await dispatchBeads(scope(calls), failing)).toEqual([]);
    expect(await dispatchBeads(scope(calls), idle)).toEqual([]);
    expect(calls).toEqual([]);
  });
});
