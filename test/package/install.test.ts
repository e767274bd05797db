/**
 * The two ways a user gets `gt`, run for real on a copy of this checkout:
 *   1. the polecat action: its install step (from action.yml) in the action's own checkout,
 *      `npm ci` with the lockfile and the build, then `bin/gt` runs;
 *   2. the npm package: `npm pack` gives a tarball that installs into an empty directory
 *      (exactly the tested dependency versions: the tarball carries npm-shrinkwrap.json) and
 *      whose `gt` runs.
 * Packages come from npm's cache (offline when it holds them: CI's `npm ci` fills it).
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../helpers/built-dist.js';
import { git, initRepo, tempDir } from '../helpers/temp-repo.js';

const run = promisify(execFile);

let dir: { path: string; cleanup(): void };
/** The action's checkout: this repository's files as they are (tracked and new), nothing built. */
let action: string;

/** Processes here get no git identity or config of this machine, as on a hosted runner. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    npm_config_prefer_offline: 'true',
    npm_config_update_notifier: 'false',
    ...extra,
  };
}

beforeAll(() => {
  dir = tempDir('gastown-install');
  action = join(dir.path, 'gastown');
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    if (!existsSync(join(ROOT, file))) continue;
    mkdirSync(dirname(join(action, file)), { recursive: true });
    cpSync(join(ROOT, file), join(action, file));
  }
});
afterAll(() => dir?.cleanup());

describe('installing gt', () => {
  it("the action's install step installs from its checkout with the lockfile, and its gt runs", async () => {
    const steps = parse(readFileSync(join(action, 'action.yml'), 'utf8')).runs.steps as { id?: string; run?: string }[];
    const install = steps.find((s) => s.id === 'install')!.run!;
    const started = Date.now();

    await run('bash', ['--noprofile', '--norc', '-e', '-c', install], {
      env: env({ GITHUB_ACTION_PATH: action }),
      cwd: dir.path,
      maxBuffer: 32 * 1024 * 1024,
    });

    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.info(`action install step (npm ci --ignore-scripts, build): ${seconds} s`);
    expect(existsSync(join(action, 'dist', 'bundle', 'gt.cjs'))).toBe(true);
    const version = await run(join(action, 'bin', 'gt'), ['--version'], { env: env() });
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(action, 'package.json'), 'utf8')).version);
  }, 300_000);

  it('npm pack gives a tarball that installs into an empty directory, and its gt works there', async () => {
    const out = join(dir.path, 'pack');
    mkdirSync(out);
    // What `npm pack` runs, less `prepare` (the build the test above just ran from the same sources).
    await run('npm', ['run', '-s', 'prepack'], { cwd: action, env: env() });
    const packed = JSON.parse(
      (await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out], { cwd: action, env: env() })).stdout,
    )[0];
    await run('npm', ['run', '-s', 'postpack'], { cwd: action, env: env() });
    const paths = (packed.files as { path: string }[]).map((f) => f.path);
    expect(packed.name).toBe('@gastown-dev/gt');
    expect(paths).toEqual(
      expect.arrayContaining([
        'bin/gt',
        'bin/gt.cjs',
        'dist/bundle/gt.cjs',
        'dist/bundle/gt-lazy.cjs',
        'dist/app.js',
        'hooks/pre-push',
        'templates/gastown-polecat.yml',
        'npm-shrinkwrap.json',
        'app.yml',
      ]),
    );
    expect(paths.filter((p) => p.startsWith('src/') || p.startsWith('test/') || p === 'scripts/demo-github.ts' || p === '.env')).toEqual(
      [],
    );
    expect(existsSync(join(action, 'npm-shrinkwrap.json'))).toBe(false);

    const user = join(dir.path, 'user');
    mkdirSync(user);
    writeFileSync(join(user, 'package.json'), '{ "name": "a-user", "private": true }\n');
    const tarball = join(out, packed.filename as string);
    const install = (mode: string) =>
      run('npm', ['install', mode, '--no-audit', '--no-fund', '--loglevel=error', tarball], {
        cwd: user,
        env: env(),
        maxBuffer: 32 * 1024 * 1024,
      });
    // Offline when npm's cache knows every package; else the registry's metadata is read once.
    await install('--offline').catch(() => install('--prefer-offline'));

    const gt = join(user, 'node_modules', '.bin', 'gt');
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')).packages;
    expect(JSON.parse(readFileSync(join(user, 'node_modules', 'probot', 'package.json'), 'utf8')).version).toBe(
      lock['node_modules/probot'].version,
    );
    expect((await run(gt, ['--version'], { env: env() })).stdout.trim()).toBe(packed.version);
    const help = (await run(gt, ['--help'], { env: env() })).stdout;
    for (const command of ['init', 'bead', 'sling', 'runner', 'install-workflow', 'app-token'])
      expect(help).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    // A rig, a bead and the workflow, with the installed gt only.
    mkdirSync(join(dir.path, 'repo'));
    const repo = initRepo(join(dir.path, 'repo'));
    await run(gt, ['init'], { cwd: repo, env: env() });
    const bead = JSON.parse((await run(gt, ['bead', 'create', 'First', '--json'], { cwd: repo, env: env() })).stdout);
    expect((await run(gt, ['ready', '--json'], { cwd: repo, env: env() })).stdout).toContain(bead.id);
    await run(gt, ['install-workflow'], { cwd: repo, env: env() });
    expect(readFileSync(join(repo, '.github', 'workflows', 'gastown-polecat.yml'), 'utf8')).toContain(
      `uses: gastown-dev/gastown@v${packed.version}`,
    );
    expect(git(repo, ['status', '--porcelain'])).toBe('?? .github/');
  }, 300_000);
});
