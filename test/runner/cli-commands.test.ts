import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WORKFLOW_PATH } from '../../src/cli/commands/install-workflow.js';
import { beadOfRunTitle } from '../../src/github/handlers/workflow-run-completed.js';
import { draftFromRepoConfig } from '../../src/cli/commands/runner.js';
import { git } from '../helpers/temp-repo.js';
import { gtx } from './run-gt-lazy.js';
import { makeTown, type Town } from './town-fixture.js';
import { GREETINGS_GOAL } from './greetings-goal.js';

let town: Town | undefined;
afterEach(() => town?.cleanup());

const GOAL = GREETINGS_GOAL;

describe('gt sling <goal>, gt runner, gt refinery, gt deacon', () => {
  it('plans a goal file with the checklist planner and works it to a landed convoy through the CLI', async () => {
    town = await makeTown();
    writeFileSync(join(town.root, 'goal.md'), GOAL);

    const planned = await gtx(town.clone, ['sling', '--goal-file', '../goal.md', '--json']);

    expect(planned.stderr).toBe('');
    const p = JSON.parse(planned.stdout) as { planner: string; beads: { id: string; blockedBy: string[] }[]; convoy: { id: string } };
    expect(p.planner).toBe('checklist');
    expect(p.beads).toHaveLength(2);
    expect(p.beads[1]!.blockedBy).toEqual([p.beads[0]!.id]);

    const ran = await gtx(town.clone, ['runner', '--until-idle', '--concurrency', '2']);

    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/merged 2, landed 1, sent back 0, failed 0/);
    expect(ran.stderr).toMatch(/step 1\/1: echo hello > hello.txt/);
    expect(ran.stderr.indexOf(`refinery: merged ${p.beads[0]!.id}`)).toBeLessThan(ran.stderr.indexOf(`refinery: merged ${p.beads[1]!.id}`));
    expect(ran.stderr).toContain(`convoy ${p.convoy.id} landed`);
    expect(git(town.remote, ['show', 'main:world.txt'])).toBe('world');
  });

  it('plans a one-line goal as a single bead; a missing goal file is bad input', async () => {
    town = await makeTown();

    const r = await gtx(town.clone, ['sling', 'Add a greeting to the README']);
    const missing = await gtx(town.clone, ['sling', '--goal-file', 'nope.md']);
    const bead = await gtx(town.clone, ['sling', 'gt-zzzz']);

    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/the Mayor planned cv-[0-9a-z]+ "Add a greeting to the README" \(checklist planner\): 1 beads/);
    expect(r.stdout).toMatch(/gt-[0-9a-z]+ {2}Add a greeting to the README/);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read nope.md: ENOENT/);
    expect(bead.stderr).toMatch(/no bead gt-zzzz/);
  });

  it('gt runner refuses bad flags in one line before touching anything', async () => {
    town = await makeTown();
    for (const [args, message] of [
      [['runner', '--bead', 'not-a-bead', '--once'], /not a bead id/],
      [['runner', '--forge', 'nowhere'], /--forge must be auto, local or github/],
      [['runner', '--concurrency', '0'], /from 1 to 32/],
    ] as const) {
      const r = await gtx(town.clone, [...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('gt refinery run --once and gt deacon --once report what they did', async () => {
    town = await makeTown();

    const refinery = await gtx(town.clone, ['refinery', 'run', '--once']);
    const deacon = await gtx(town.clone, ['deacon', '--once', '--json']);

    expect(refinery.stdout.trim()).toBe('merged 0, sent back 0, failed 0, waiting 0');
    expect(JSON.parse(deacon.stdout)).toEqual({ stalled: [], escalated: [] });
  });

  it('gt runner refuses to run without a git remote to push to', async () => {
    town = await makeTown();
    git(town.clone, ['remote', 'remove', 'origin']);

    const r = await gtx(town.clone, ['runner', '--once']);

    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no git remote named origin/);
  });
});

describe('draft pull requests from .github/gastown.yml', () => {
  it('reads the top-level draftPullRequests flag only', async () => {
    town = await makeTown();
    const config = join(town.clone, '.github', 'gastown.yml');

    expect(draftFromRepoConfig(town.clone)).toBe(false);
    mkdirSync(join(town.clone, '.github'));
    writeFileSync(config, 'labels:\n  draftPullRequests: true\n');
    expect(draftFromRepoConfig(town.clone)).toBe(false);
    writeFileSync(config, 'planner: checklist\ndraftPullRequests: true  # review first\n');
    expect(draftFromRepoConfig(town.clone)).toBe(true);
  });
});

describe('gt install-workflow', () => {
  it('writes the polecat workflow: dispatch input bead, least privilege, the runner for one bead, no app key', async () => {
    town = await makeTown();

    const r = await gtx(join(town.clone), ['install-workflow']);

    expect(r.code).toBe(0);
    const file = join(town.clone, WORKFLOW_PATH);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/on:\n {2}workflow_dispatch:\n {4}inputs:\n {6}bead:\n/);
    expect(text).toMatch(/permissions:\n {2}contents: write\n {2}pull-requests: write\n/);
    expect(text).toContain('token: ${{ secrets.GITHUB_TOKEN }}');
    expect(text).toContain('BEAD: ${{ inputs.bead }}');
    expect(text).toContain('npx gt runner --once --bead "$BEAD"');
    // The run's title names its bead, in the form the app reads back when the run ends.
    const runName = /^run-name: (.+)$/m.exec(text)![1]!;
    expect(beadOfRunTitle(runName.replace('${{ inputs.bead }}', 'gt-1a2b'))).toBe('gt-1a2b');
    // The input is never pasted into a script (injection), and the app's credentials never appear.
    expect(text.split('\n').filter((l) => l.includes('run:') || l.startsWith('          ')).join('\n')).not.toContain('${{ inputs.bead }}');
    expect(text).not.toMatch(/PRIVATE_KEY|APP_ID|WEBHOOK_SECRET|SLACK_/);
    const again = await gtx(town.clone, ['install-workflow']);
    expect(again.stdout).toMatch(/is up to date/);
    writeFileSync(file, 'changed by a person\n');
    const refused = await gtx(town.clone, ['install-workflow']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/differs from the template/);
    expect((await gtx(town.clone, ['install-workflow', '--force'])).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(existsSync(join(town.clone, '.github', 'workflows'))).toBe(true);
  });
});
