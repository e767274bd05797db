import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isGastownError } from '../../src/errors.js';
import { createScriptAgent } from '../../src/polecat/agents/script-agent.js';
import { packageHooksDir } from '../../src/polecat/runner/hooks-dir.js';
import { requireSandbox } from '../../src/polecat/sandbox/detect-sandbox.js';
import { workBead } from '../../src/polecat/runner/work-bead.js';
import { claimBead, dispatchReady } from '../../src/rig/work.js';
import { git } from '../helpers/temp-repo.js';
import { makeTown, scriptBead, type Town } from './town-fixture.js';

let town: Town | undefined;
afterEach(() => town?.cleanup());

describe('workBead', () => {
  it('refuses a claim whose branch is the default branch before it starts a heartbeat or a workspace', async () => {
    town = await makeTown({ heartbeatMs: 100 });
    const { rig } = town;
    await scriptBead(rig, 'Anything', ['echo x > x.txt']);
    await dispatchReady(rig);
    const claim = (await claimBead(rig, { runner: 'r1' }))!;
    // A rig whose default branch is named like this polecat's branch (and exists on the remote).
    git(town.clone, ['push', '-q', 'origin', `main:refs/heads/${claim.branch}`]);
    const remote = { remote: 'origin', tracking: 'refs/remotes/origin/', defaultBranch: claim.branch };
    const root = join(town.root, 'workspaces');
    const beat = async () => JSON.stringify((await rig.ledger.get('heartbeats', claim.polecat))?.value ?? null);

    const refused = await workBead({
      rig,
      claim,
      remote,
      sandbox: await requireSandbox(),
      env: process.env,
      hide: [],
      hooksDir: packageHooksDir(),
      workspaceRoot: root,
      forge: null,
      draft: false,
      signal: new AbortController().signal,
      log: () => undefined,
      agent: createScriptAgent(),
    }).catch((err: unknown) => err);
    const after = await beat();
    await new Promise((r) => setTimeout(r, 500));

    expect(isGastownError(refused, 'gastown_forbidden'), String(refused)).toBe(true);
    expect((refused as Error).message).toContain(`refusing to work on ${claim.branch}`);
    // Nothing left running or on disk: no heartbeat timer beating on, no workspace.
    expect(await beat()).toBe(after);
    expect(existsSync(root) ? readdirSync(root) : []).toEqual([]);
  });
});
