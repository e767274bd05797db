import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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
