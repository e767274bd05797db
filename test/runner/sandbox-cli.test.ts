import { afterEach, describe, expect, it } from 'vitest';
import { getBead } from '../../src/rig/beads.js';
import { git } from '../helpers/temp-repo.js';
import { gtx } from './run-gt-lazy.js';
import { makeTown, scriptBead, type Town } from './town-fixture.js';

let town: Town | undefined;
afterEach(() => town?.cleanup());

// The CLI looks for bwrap on the PATH of its own environment (ctx.env); git still runs with
// this process's, so a PATH without bwrap stands for a machine without bubblewrap.
const NO_BWRAP = { PATH: '/nonexistent' };

describe('gt runner and the sandbox', () => {
  it('refuses to run agents where bubblewrap is missing, in one line saying what to do, and claims nothing', async () => {
    town = await makeTown();
    const bead = await scriptBead(town.rig, 'Anything', ['echo x > x.txt']);

    const ran = await gtx(town.clone, ['runner', '--until-idle'], NO_BWRAP);

    expect(ran.code).toBe(1);
    expect(ran.stderr).toBe(
      'gt: cannot sandbox polecat agents: bubblewrap (bwrap) is not installed; install bubblewrap (apt-get install bubblewrap), or pass --no-sandbox to run them unsandboxed\n',
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
      'FAIL  agent sandbox: unavailable: bubblewrap (bwrap) is not installed; install bubblewrap (apt-get install bubblewrap) (gt runner refuses to run agents without it unless given --no-sandbox)',
    );
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
