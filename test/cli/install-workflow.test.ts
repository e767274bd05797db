/**
 * `gt install-workflow` and the action it pins: a user's workflow runs this exact code
 * through `uses: <owner>/<repo>@<ref>`, never a package looked up by name at run time.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_ACTION_REPO, WORKFLOW_PATH } from '../../src/cli/commands/install-workflow.js';
import { beadOfRunTitle } from '../../src/github/handlers/workflow-run-completed.js';
import { VERSION } from '../../src/version.js';
import { initRepo, tempDir } from '../helpers/temp-repo.js';
import { gtx } from '../runner/run-gt-lazy.js';

const ROOT = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/** The workflow as an older gt wrote it: `npx gt`, which resolves an unrelated registry package. */
const OLD_WORKFLOW = `name: gastown-polecat
on:
  workflow_dispatch:
    inputs:
      bead: { required: true, type: string }
jobs:
  polecat:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          token: \${{ secrets.GITHUB_TOKEN }}
      - run: npx gt runner --once --bead "$BEAD" --forge github
`;

let dir: { path: string; cleanup(): void } | undefined;
afterEach(() => dir?.cleanup());

function repo(): string {
  dir = tempDir('install-workflow');
  return initRepo(dir.path);
}

/** The lines of a workflow or action that are shell scripts (`run:` blocks). */
function scripts(steps: { run?: string }[]): string {
  return steps
    .map((s) => s.run ?? '')
    .filter(Boolean)
    .join('\n');
}

describe('gt install-workflow', () => {
  it('writes a workflow that uses the action pinned to this version, with least privilege and no token in .git/config', async () => {
    const cwd = repo();

    const r = await gtx(cwd, ['install-workflow']);

    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`uses ${DEFAULT_ACTION_REPO}@v${VERSION}`);
    const text = readFileSync(join(cwd, WORKFLOW_PATH), 'utf8');
    const wf = parse(text);
    expect(wf.on.workflow_dispatch.inputs.bead).toMatchObject({ required: true, type: 'string' });
    expect(wf.permissions).toEqual({ contents: 'write', 'pull-requests': 'write', 'id-token': 'write', issues: 'read' });
    const steps = wf.jobs.polecat.steps as { uses?: string; with?: Record<string, unknown>; run?: string }[];
    expect(steps.map((s) => s.uses)).toEqual(['actions/checkout@v4', `gastown-dev/gastown@v${VERSION}`]);
    // Checked out without leaving a token behind: the action hands git its token per command.
    expect(steps[0]!.with).toEqual({ 'fetch-depth': 0, 'persist-credentials': false });
    expect(steps[1]!.with).toMatchObject({
      bead: '${{ inputs.bead }}',
      'app-url': '${{ vars.GASTOWN_APP_URL }}',
      'anthropic-api-key': '${{ secrets.ANTHROPIC_API_KEY }}',
    });
    expect(text).not.toMatch(/\bnpx\b|^\s*token:|PRIVATE_KEY|APP_ID|WEBHOOK_SECRET|SLACK_/m);
    expect(scripts(steps)).toBe('');
    // The run's title names its bead, in the form the app reads back when the run ends.
    expect(beadOfRunTitle(String(wf['run-name']).replace('${{ inputs.bead }}', 'gt-1a2b'))).toBe('gt-1a2b');
    const again = await gtx(cwd, ['install-workflow']);
    expect(again.stdout).toMatch(/is up to date/);
  });

  it('pins another repository and ref when asked (a fork, a commit sha), and refuses what is not a ref', async () => {
    const cwd = repo();
    const sha = 'a'.repeat(40);

    const r = await gtx(cwd, ['install-workflow', '--action', 'me/gastown-fork', '--ref', sha]);
    const bad = await gtx(cwd, ['install-workflow', '--force', '--ref', 'v1; curl evil']);
    const badRepo = await gtx(cwd, ['install-workflow', '--force', '--action', 'gt']);

    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(cwd, WORKFLOW_PATH), 'utf8')).toContain(`      - uses: me/gastown-fork@${sha}\n`);
    expect([bad.code, bad.stderr.trim()]).toEqual([2, 'gt: --ref must be a tag, branch or commit sha (got v1; curl evil)']);
    expect([badRepo.code, badRepo.stderr.trim()]).toEqual([2, 'gt: --action must be owner/repo (got gt)']);
  });

  it('refuses to overwrite an old npx workflow without --force, saying why, and upgrades it with --force', async () => {
    const cwd = repo();
    mkdirSync(join(cwd, '.github', 'workflows'), { recursive: true });
    writeFileSync(join(cwd, WORKFLOW_PATH), OLD_WORKFLOW);

    const refused = await gtx(cwd, ['install-workflow']);
    const upgraded = await gtx(cwd, ['install-workflow', '--force']);

    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /is an old workflow that runs `npx gt` .* run gt install-workflow --force to replace it with one pinned to gastown-dev\/gastown@v/,
    );
    expect(upgraded.code, upgraded.stderr).toBe(0);
    expect(upgraded.stdout).toContain('replaced an old workflow that runs npx gt');
    const text = readFileSync(join(cwd, WORKFLOW_PATH), 'utf8');
    expect(text).not.toContain('npx');
    expect(text).toContain('persist-credentials: false');
  });

  it('names the release an existing workflow pins, and a workflow a person changed', async () => {
    const cwd = repo();
    await gtx(cwd, ['install-workflow', '--ref', 'v0.0.9']);
    const file = join(cwd, WORKFLOW_PATH);

    const pinned = await gtx(cwd, ['install-workflow']);
    writeFileSync(file, 'changed by a person\n');
    const changed = await gtx(cwd, ['install-workflow']);
    const forced = await gtx(cwd, ['install-workflow', '--force']);

    expect(pinned.stderr).toMatch(/pins gastown-dev\/gastown@v0\.0\.9, not gastown-dev\/gastown@v\d/);
    expect(changed.stderr).toMatch(/exists and differs from the template \(use --force to replace it\)/);
    expect(forced.code).toBe(0);
    expect(existsSync(file)).toBe(true);
  });
});

describe('action.yml (the polecat action)', () => {
  const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8'));
  const steps = action.runs.steps as {
    name?: string;
    id?: string;
    uses?: string;
    run?: string;
    shell?: string;
    env?: Record<string, string>;
    if?: string;
  }[];

  it('is a composite action that installs from its own checkout with the lockfile, running no dependency install script', () => {
    expect(action.runs.using).toBe('composite');
    const install = steps.find((s) => s.id === 'install')!;
    expect(install.run).toMatch(/cd "\$GITHUB_ACTION_PATH"\nnpm ci --ignore-scripts /);
    expect(install.run).toContain('npm run -s build');
    expect(scripts(steps)).not.toMatch(/\bnpx\b|npm install|npm i /);
    for (const s of steps) if (s.run) expect(s.shell, s.name).toBe('bash');
  });

  it('never pastes an input into a script: inputs reach the steps through the environment', () => {
    expect(scripts(steps)).not.toContain('${{');
    const work = steps.find((s) => s.name === 'Work the bead')!;
    expect(work.env).toMatchObject({
      BEAD: '${{ inputs.bead }}',
      GASTOWN_APP_URL: '${{ inputs.app-url }}',
      WORKFLOW_TOKEN: '${{ inputs.github-token }}',
    });
    expect(steps.find((s) => s.name === 'Publish the ledger')!.if).toBe('always()');
    expect(Object.keys(action.inputs)).toEqual([
      'bead',
      'agent',
      'agent-command',
      'app-url',
      'audience',
      'github-token',
      'sync-ms',
      'anthropic-api-key',
    ]);
    expect(work.env).toMatchObject({ GASTOWN_SYNC_MS: '${{ inputs.sync-ms }}' });
  });

  it('is the action gt install-workflow pins: this repository, this version', () => {
    expect(pkg.repository.url).toBe(`git+https://github.com/${DEFAULT_ACTION_REPO}.git`);
    expect(parse(readFileSync(join(ROOT, 'app.yml'), 'utf8')).url).toBe(`https://github.com/${DEFAULT_ACTION_REPO}`);
    expect(VERSION).toBe(pkg.version);
  });
});
