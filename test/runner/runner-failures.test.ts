import { afterEach, describe, expect, it } from 'vitest';
import { getBead } from '../../src/rig/beads.js';
import { inbox } from '../../src/rig/mail.js';
import { gtx } from './run-gt-lazy.js';
import { makeTown, scriptBead, type Town } from './town-fixture.js';

let town: Town | undefined;
afterEach(() => town?.cleanup());

async function mayorMail(t: Town): Promise<string[]> {
  return (await inbox(t.rig, 'mayor')).filter((m) => m.type === 'BEAD_FAILED').map((m) => m.body);
}

describe('gt runner when work fails', () => {
  it('fails a bead with nothing for the script agent to run at once, says what to fix, and exits non-zero', async () => {
    town = await makeTown({ retryCap: 3 });
    const bead = await scriptBead(town.rig, 'Prose only', []);

    const ran = await gtx(town.clone, ['runner', '--until-idle']);

    expect(ran.code).toBe(1);
    expect(ran.stdout).toMatch(/failed 1$/m);
    expect(ran.stderr).toContain(`gt: work failed: ${bead.id} (failed); see gt trail --bead <id>`);
    const after = await getBead(town.rig, bead.id);
    expect(after).toMatchObject({ status: 'failed', attempts: 1 });
    expect(await mayorMail(town)).toEqual([
      expect.stringMatching(/nothing to run: add one to its body, or give the rig an agent that reads prose/),
    ]);
  });

  it('fails at once when the agent command is not installed', async () => {
    town = await makeTown({
      retryCap: 3,
      agent: { kind: 'command', command: 'gastown-no-such-agent -p', maxTurns: 40, tokenBudget: 400_000, timeoutMs: 60_000 },
    });
    const bead = await scriptBead(town.rig, 'Needs an agent', ['true']);

    const ran = await gtx(town.clone, ['runner', '--until-idle']);

    expect(ran.code).toBe(1);
    expect(await getBead(town.rig, bead.id)).toMatchObject({ status: 'failed', attempts: 1 });
    expect(ran.stderr).toContain('failed: agent command `gastown-no-such-agent` not found: install it or set `gt init --agent-command`');
  });

  it('fails at once when the default branch is not on the remote (the rig settings are wrong), counting it as failed', async () => {
    town = await makeTown({ retryCap: 3, defaultBranch: 'trunk' });
    const bead = await scriptBead(town.rig, 'Anything', ['true']);

    const ran = await gtx(town.clone, ['runner', '--until-idle']);

    expect(ran.code).toBe(1);
    expect(ran.stdout).toMatch(/failed 1$/m);
    expect(await getBead(town.rig, bead.id)).toMatchObject({ status: 'failed', attempts: 1 });
    expect(ran.stderr).toContain("origin has no branch trunk, the rig's default branch: set it with gt init --default-branch <name>");
  });

  it('a failed attempt still to be retried makes --once exit non-zero; a bead that fails on retry fails after the cap', async () => {
    town = await makeTown({ retryCap: 1 });
    const bead = await scriptBead(town.rig, 'Flaky', ['exit 3']);

    const once = await gtx(town.clone, ['runner', '--once']);
    const rest = await gtx(town.clone, ['runner', '--until-idle']);

    expect(once.code).toBe(1);
    expect(once.stderr).toContain(`gt: work failed: ${bead.id} (to be retried)`);
    expect(rest.code).toBe(1);
    expect(await getBead(town.rig, bead.id)).toMatchObject({ status: 'failed', attempts: 2 });
  });
});
