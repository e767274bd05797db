import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureAgentUser } from '../../src/polecat/sandbox/agent-user.js';
import { createUserSandbox } from '../../src/polecat/sandbox/user-sandbox.js';
import { getBead } from '../../src/rig/beads.js';
import { git } from '../helpers/temp-repo.js';
import { gtx } from './run-gt-lazy.js';
import { makeTown, scriptBead, type Town } from './town-fixture.js';

let town: Town | undefined;
const onExit: (() => void)[] = [];
afterEach(() => {
  town?.cleanup();
  for (const f of onExit.splice(0)) f();
});

// The CLI looks for bwrap on the PATH of its own environment (ctx.env); git still runs with
// this process's, so a PATH without bwrap stands for a machine without bubblewrap.
const NO_BWRAP = { PATH: '/nonexistent' };

/** A bwrap that fails as Ubuntu 24.04's does where AppArmor restricts user namespaces, ahead of the system's PATH. */
function restrictedBwrapPath(root: string): string {
  const bin = join(root, 'restricted-bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'bwrap'), '#!/bin/sh\necho "bwrap: setting up uid map: Permission denied" >&2\nexit 1\n', { mode: 0o755 });
  return `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
}

describe('gt runner and the sandbox', () => {
  it('refuses to run agents where bubblewrap is missing, in one line saying what to do, and claims nothing', async () => {
    town = await makeTown();
    const bead = await scriptBead(town.rig, 'Anything', ['echo x > x.txt']);

    const ran = await gtx(town.clone, ['runner', '--until-idle'], NO_BWRAP);

    expect(ran.code).toBe(1);
    expect(ran.stderr).toBe(
      `gt: cannot sandbox polecat agents: bubblewrap (bwrap) is not installed, and the user sandbox needs setpriv (util-linux), which is not installed; install bubblewrap (apt-get install bubblewrap), or pass --no-sandbox to run them unsandboxed\n`,
    );
    expect(await getBead(town.rig, bead.id)).toMatchObject({ status: 'open', attempts: 0 });
  });

  it('runs agents unsandboxed with --no-sandbox, after a warning', async () => {
    town = await makeTown();
    const bead = await scriptBead(town.rig, 'Anything', ['echo x > x.txt']);

    const ran = await gtx(town.clone, ['runner', '--until-idle', '--no-sandbox']);

    expect(ran.code).toBe(0);
    expect(ran.stderr.split('\n')[0]).toBe(
      "warning: --no-sandbox: agents run unsandboxed, with this machine's files, the rig, the remote, the network and the runner's /proc in their reach",
    );
    expect(await getBead(town.rig, bead.id)).toMatchObject({ status: 'closed' });
  });

  it('gt doctor says whether agents can be sandboxed here, and why not', async () => {
    town = await makeTown();

    const here = await gtx(town.clone, ['doctor']);
    const without = await gtx(town.clone, ['doctor'], NO_BWRAP);

    expect(here.stdout).toMatch(
      /^ok {4}agent sandbox: available: bubblewrap \d+\.\d+\.\d+ \(\S+\/bwrap\); gt runner runs every agent in it$/m,
    );
    expect(without.code).toBe(1);
    expect(without.stdout).toContain(
      'FAIL  agent sandbox: unavailable: bubblewrap (bwrap) is not installed, and the user sandbox needs setpriv (util-linux), which is not installed; install bubblewrap (apt-get install bubblewrap) (gt runner refuses to run agents without it unless given --no-sandbox)',
    );
  });

  it('gt doctor names the user sandbox as the fallback where bwrap cannot make namespaces, and what it leaves open', async () => {
    town = await makeTown();

    const ran = await gtx(town.clone, ['doctor'], { PATH: restrictedBwrapPath(town.root) });

    const line = ran.stdout.split('\n').find((l) => l.includes('agent sandbox')) ?? '';
    expect(line).toMatch(/^warn {2}agent sandbox: fallback: user sandbox: agents run as gastown-agent /);
    expect(line).toContain('bubblewrap is unavailable:');
    expect(line).toContain('the agent can read every world-readable file of the host');
    expect(line).toContain('no network isolation');
  });

  it('gt runner --sandbox user runs each agent as gastown-agent and says what that does not cover', async () => {
    town = await makeTown();
    const agent = await ensureAgentUser(process.env);
    const bead = await scriptBead(town.rig, 'Who am I', ['id -u > who.txt']);

    // The rig's directory of workspaces (outside the rig, in TMPDIR) goes with the test.
    const workspaces = createUserSandbox({ user: agent, setpriv: '/usr/bin/setpriv' }).workspaceRoot!(join(town.clone, '.git'));
    onExit.push(() => rmSync(workspaces, { recursive: true, force: true }));
    const ran = await gtx(town.clone, ['runner', '--until-idle', '--no-refinery', '--sandbox', 'user']);
    const refused = await gtx(town.clone, ['runner', '--until-idle', '--sandbox', 'user']);
    const bad = await gtx(town.clone, ['runner', '--until-idle', '--sandbox', 'docker']);

    expect(ran.code).toBe(0);
    expect(ran.stderr.split('\n')[0]).toMatch(/^note: user sandbox: agents run as gastown-agent \(uid \d+\) via setpriv; not covered: /);
    const after = await getBead(town.rig, bead.id);
    expect(git(town.remote, ['show', `${after.branch}:who.txt`])).toBe(String(agent.uid));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("the local Refinery's gate needs bubblewrap, not the user sandbox");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--sandbox must be auto, bwrap or user (got docker)');
  });

  it('gt init records the sandbox settings, keeping what is not given', async () => {
    town = await makeTown();

    const set = await gtx(town.clone, ['init', '--sandbox-env', 'FAKE_KEY, OTHER_KEY', '--sandbox-network', '--json']);
    const more = await gtx(town.clone, ['init', '--sandbox-read-only', '/opt/tools', '--json']);
    const bad = await gtx(town.clone, ['init', '--sandbox-env', 'NOT-A-NAME']);

    expect(JSON.parse(set.stdout).sandbox).toEqual({ env: ['FAKE_KEY', 'OTHER_KEY'], network: true, readOnly: [] });
    expect(JSON.parse(more.stdout).sandbox).toEqual({ env: ['FAKE_KEY', 'OTHER_KEY'], network: true, readOnly: ['/opt/tools'] });
    expect(bad.code).toBe(2);
  });

  it('gives agents exactly the variables the rig allows', async () => {
    town = await makeTown({ sandbox: { env: ['FAKE_KEY'], network: false, readOnly: [] } });
    const bead = await scriptBead(town.rig, 'Variables', [
      'echo "${FAKE_KEY:-unset} ${GITHUB_TOKEN:-unset} ${OTHER_KEY:-unset}" > vars.txt',
    ]);

    const ran = await gtx(town.clone, ['runner', '--until-idle', '--no-refinery'], {
      FAKE_KEY: 'k1',
      GITHUB_TOKEN: 'ghs_notForAgents',
      OTHER_KEY: 'o1',
    });

    expect(ran.code).toBe(0);
    const after = await getBead(town.rig, bead.id);
    expect(git(town.remote, ['show', `${after.branch}:vars.txt`])).toBe('k1 unset unset');
  });
});
