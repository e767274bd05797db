import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { CliContext } from '../../src/cli/cli-context.js';
import { runCli } from '../../src/cli/main.js';
import type { Bead, Convoy } from '../../src/town/types.js';
import { git, repoWithRemote, tempDir, TEST_GIT_ENV } from '../helpers/temp-repo.js';

let root: string;
let cleanup: () => void;
beforeEach(() => {
  const t = tempDir('town');
  root = t.path;
  cleanup = t.cleanup;
});
afterEach(() => cleanup());

/** The real CLI in-process, as a person with no GT_ACTOR: who they are comes from where they stand. */
async function gt(cwd: string, args: string[], actor?: string, extraEnv: NodeJS.ProcessEnv = {}) {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d) => (stdout += d));
  err.on('data', (d) => (stderr += d));
  const { GT_ACTOR: _a, GT_TOWN: _t, ANTHROPIC_API_KEY: _k, ...env } = TEST_GIT_ENV;
  const ctx: CliContext = {
    cwd,
    env: { ...env, HOME: join(root, 'home'), USER: 'login-name', ...(actor ? { GT_ACTOR: actor } : {}), ...extraEnv },
    stdout: out,
    stderr: err,
    stdin: Readable.from(['']),
    now: () => new Date(),
  };
  const code = await runCli(args, ctx);
  return { code, stdout, stderr, json: <T>() => JSON.parse(stdout) as T };
}

async function ok(cwd: string, args: string[], actor?: string) {
  const r = await gt(cwd, args, actor);
  // Progress lines (sync, clone) go to stderr; errors and warnings must not.
  expect(r.stderr, args.join(' ')).not.toMatch(/^(gt:|warning)/m);
  expect(r.code, args.join(' ')).toBe(0);
  return r;
}

/** A project whose remote already holds a ledger: alice made it a rig, planned work and synced. */
async function projectWithLedger(name: string) {
  const { remote, clone } = repoWithRemote(root, name);
  await ok(clone, ['init'], 'alice');
  const a = (await ok(clone, ['bead', 'create', 'Design the API', '--json'], 'alice')).json<Bead>();
  const b = (await ok(clone, ['bead', 'create', 'Build the API', '--blocked-by', a.id, '--json'], 'alice')).json<Bead>();
  await ok(clone, ['sync'], 'alice');
  return { remote, clone, beads: [a, b] };
}

describe('the town workspace', () => {
  test('town init where no folder can be made says so in one line', async () => {
    writeFileSync(join(root, 'a-file'), '');

    const r = await gt(root, ['town', 'init', join(root, 'a-file', 'town')]);

    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`gt: cannot make a town at ${join(root, 'a-file', 'town')}: ENOTDIR (ENOTDIR: not a directory)\n`);
  });

  test('town init under /proc fails at once (Node’s recursive mkdir spins there forever)', async () => {
    const where = `/proc/gastown-no-such-${process.pid}/town`;

    // A child process with a deadline: a regression must fail this test, not hang the worker.
    const r = spawnSync(join(import.meta.dirname, '../../bin/gt'), ['town', 'init', where], {
      cwd: root,
      encoding: 'utf8',
      timeout: 15_000,
      env: { ...process.env, ...TEST_GIT_ENV },
    });

    expect(r.signal).toBeNull();
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`gt: cannot make a town at ${where}: ENOENT (ENOENT: no such file or directory)\n`);
  }, 20_000);

  test('rig add joins a ledger the remote already has; crew add gives a workspace that acts as its person', async () => {
    const { remote, clone, beads } = await projectWithLedger('todo');
    const town = join(root, 'gt');
    expect((await ok(root, ['town', 'init', town])).stdout).toContain('town ready');
    expect((await ok(root, ['town', 'init', town])).stdout).toContain('a town already');

    const added = (await ok(town, ['rig', 'add', 'todo', remote, '--json'])).json<{ created: boolean; joinedRefs: number }>();
    expect(added.created).toBe(true);
    expect(added.joinedRefs).toBeGreaterThan(0);
    const rigGit = join(town, 'todo', 'rig.git');
    // Joined, not re-created: the rig's ledger refs are the remote's own commits.
    for (const b of beads)
      expect(git(rigGit, ['rev-parse', `refs/gastown/beads/${b.id}`])).toBe(git(remote, ['rev-parse', `refs/gastown/beads/${b.id}`]));
    // Adding it again only syncs; another URL under the same name is refused and changes nothing.
    expect((await ok(town, ['rig', 'add', 'todo', remote, '--json'])).json<{ created: boolean }>().created).toBe(false);
    const other = await gt(town, ['rig', 'add', 'todo', join(root, 'elsewhere.git')]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/already exists with remote/);
    expect((await gt(town, ['rig', 'add', 'Bad Name', remote])).stderr).toMatch(/bad rig name/);

    const made = (await ok(town, ['crew', 'add', 'me', '--json'])).json<{ dir: string; branch: string }>();
    expect(made.branch).toBe('crew/me');
    expect(git(made.dir, ['rev-parse', '--abbrev-ref', 'HEAD'])).toBe('crew/me');
    expect(git(made.dir, ['rev-parse', 'HEAD'])).toBe(git(remote, ['rev-parse', 'main']));
    expect((await ok(town, ['crew', 'add', 'me', '--json'])).json<{ created: boolean }>().created).toBe(false);

    // In the workspace: the joined ledger, and commands act as "me" (no GT_ACTOR given).
    expect(
      (await ok(made.dir, ['bead', 'list', '--json']))
        .json<Bead[]>()
        .map((b) => b.id)
        .sort(),
    ).toEqual(beads.map((b) => b.id).sort());
    await ok(clone, ['mail', 'send', 'me', '--subject', 'welcome aboard'], 'alice');
    await ok(clone, ['sync'], 'alice');
    await ok(made.dir, ['sync']);
    const inbox = (await ok(made.dir, ['mail', 'inbox', '--json'])).json<{ from: string; subject: string }[]>();
    expect(inbox).toMatchObject([{ from: 'alice', subject: 'welcome aboard' }]);
    const sent = (await ok(made.dir, ['mail', 'send', 'alice', '--subject', 'thanks', '--json'])).json<{ from: string }>();
    expect(sent.from).toBe('me');
    const planned = (await ok(made.dir, ['sling', 'Write the docs', '--json'])).json<{ convoy: Convoy }>();
    expect(planned.convoy.source).toMatchObject({ kind: 'local', requestedBy: 'me' });

    // What the crew did reaches the remote through the shared rig: alice sees it.
    await ok(made.dir, ['sync']);
    await ok(clone, ['sync'], 'alice');
    expect((await ok(clone, ['mail', 'inbox', '--json'], 'alice')).json<{ from: string }[]>()).toMatchObject([{ from: 'me' }]);
    expect((await ok(clone, ['convoy', 'status', planned.convoy.id, '--json'], 'alice')).stdout).toContain('Write the docs');

    // Status inside the workspace is the rig's, as without a town.
    expect((await ok(made.dir, ['status', '--json'])).json<{ beads: { total: number } }>().beads.total).toBe(3);
  });

  test('gt status at the town root shows every rig; rig list and remove', async () => {
    const first = await projectWithLedger('todo');
    const second = repoWithRemote(root, 'web');
    const town = join(root, 'gt');
    await ok(root, ['town', 'init', town]);
    await ok(town, ['rig', 'add', 'todo', first.remote]);
    await ok(town, ['rig', 'add', 'web', second.remote]);
    const crew = (await ok(town, ['crew', 'add', 'bo', '--rig', 'web', '--json'])).json<{ dir: string }>();
    await ok(crew.dir, ['bead', 'create', 'Landing page']);
    expect((await gt(town, ['crew', 'add', 'x'])).stderr).toMatch(/which rig\? --rig todo \| web/);

    const status = (await ok(town, ['status', '--json'])).json<{
      rigs: { name: string; crew: string[]; status: { beads: { total: number; ready: number } } }[];
    }>();
    expect(status.rigs.map((r) => [r.name, r.status.beads.total, r.status.beads.ready, r.crew])).toEqual([
      ['todo', 2, 1, []],
      ['web', 1, 1, ['bo']],
    ]);
    const text = (await ok(town, ['status'])).stdout;
    expect(text).toMatch(/^todo {2}.*todo-remote\.git\n {2}beads: 2 total, 1 ready/m);
    expect(text).toMatch(/^web {2}.*web-remote\.git\n {2}beads: 1 total, 1 ready/m);
    expect(text).toContain('crew: bo');
    expect((await ok(town, ['rig', 'list'])).stdout).toMatch(/^web\s+\S+web-remote\.git\s+bo$/m);
    // A token in a remote URL is never shown.
    const todoGit = join(town, 'todo', 'rig.git');
    git(todoGit, ['config', 'remote.origin.url', 'https://x-access-token:ghs_SECRET@example.invalid/todo.git']);
    for (const args of [['rig', 'list', '--json'], ['status']]) {
      const shown = await ok(town, args);
      expect(shown.stdout).toContain('https://***@example.invalid/todo.git');
      expect(shown.stdout).not.toContain('SECRET');
    }
    git(todoGit, ['config', 'remote.origin.url', first.remote]);

    // Removing a rig loses nothing: uncommitted work stops it, and its ledger is pushed first.
    writeFileSync(join(crew.dir, 'draft.txt'), 'wip\n');
    const refused = await gt(town, ['rig', 'remove', 'web']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/crew bo has uncommitted changes/);
    expect(existsSync(join(town, 'web', 'rig.git'))).toBe(true);
    git(crew.dir, ['add', 'draft.txt']);
    git(crew.dir, ['commit', '-q', '-m', 'draft']);
    expect((await gt(town, ['rig', 'remove', 'web'])).stderr).toMatch(/crew\/bo has commits no remote has/);
    git(crew.dir, ['push', '-q', 'origin', 'crew/bo']);
    expect((await ok(town, ['rig', 'remove', 'web'])).stdout).toContain('ledger pushed first');
    expect(existsSync(join(town, 'web'))).toBe(false);
    expect(git(second.remote, ['for-each-ref', '--format=%(refname)', 'refs/gastown/beads/'])).toMatch(/^refs\/gastown\/beads\/gt-/);
    expect((await ok(town, ['status', '--json'])).json<{ rigs: { name: string }[] }>().rigs.map((r) => r.name)).toEqual(['todo']);
  });

  test('a remote whose repository keeps its ledger on the branch-prefix fallback is joined there', async () => {
    const { remote, clone } = repoWithRemote(root, 'gh');
    mkdirSync(join(clone, '.github'));
    writeFileSync(join(clone, '.github', 'gastown.yml'), 'ledgerPrefix: refs/heads/gastown-ledger/\n');
    git(clone, ['add', '.github']);
    git(clone, ['commit', '-q', '-m', 'ledger on branches']);
    git(clone, ['push', '-q', 'origin', 'main']);
    await ok(clone, ['init'], 'alice');
    const bead = (await ok(clone, ['bead', 'create', 'On the fallback', '--json'], 'alice')).json<Bead>();
    await ok(clone, ['sync'], 'alice');
    expect(git(remote, ['rev-parse', `refs/heads/gastown-ledger/beads/${bead.id}`])).toMatch(/^[0-9a-f]{40}$/);

    const town = join(root, 'gt');
    await ok(root, ['town', 'init', town]);
    expect((await ok(town, ['rig', 'add', 'gh', remote, '--json'])).json<{ joinedRefs: number }>().joinedRefs).toBeGreaterThan(0);
    const crew = (await ok(town, ['crew', 'add', 'me', '--json'])).json<{ dir: string }>();
    expect((await ok(crew.dir, ['bead', 'list', '--json'])).json<Bead[]>().map((b) => b.id)).toEqual([bead.id]);
    expect(
      (await ok(town, ['status', '--json'])).json<{ rigs: { status: { beads: { total: number } } }[] }>().rigs[0]!.status.beads.total,
    ).toBe(1);
    expect(git(join(town, 'gh', 'rig.git'), ['for-each-ref', '--format=%(refname)', 'refs/gastown/'])).toBe('');
  });

  test('without a town the town commands say how to make one; GT_TOWN and ~/gt are found from anywhere', async () => {
    const lost = await gt(root, ['rig', 'list']);
    expect(lost.code).toBe(1);
    expect(lost.stderr).toMatch(/no town here: run `gt town init/);
    await ok(root, ['town', 'init']);
    expect(existsSync(join(root, 'home', 'gt', 'gastown-town.json'))).toBe(true);
    expect((await ok(root, ['rig', 'list'])).stdout).toContain('no rigs yet');
    // GT_TOWN names the default town instead of ~/gt, for init and for finding it.
    const elsewhere = { GT_TOWN: join(root, 'towns', 'work') };
    expect((await gt(root, ['town', 'init', '--json'], undefined, elsewhere)).json<{ dir: string }>().dir).toBe(elsewhere.GT_TOWN);
    const { remote } = repoWithRemote(root, 'api');
    expect((await gt(root, ['rig', 'add', 'api', remote], undefined, elsewhere)).code).toBe(0);
    expect(existsSync(join(elsewhere.GT_TOWN, 'api', 'rig.git', 'HEAD'))).toBe(true);
    expect((await ok(root, ['rig', 'list'])).stdout).toContain('no rigs yet');
  });
});
