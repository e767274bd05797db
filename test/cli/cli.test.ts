import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { Bead, Convoy, FeedEvent } from '../../src/town/types.js';
import { git, initRepo, tempDir, TEST_GIT_ENV } from '../helpers/temp-repo.js';
import { gt } from './run-gt.js';

let dir: string;
let cleanup: () => void;
beforeEach(async () => {
  const t = tempDir('cli');
  dir = t.path;
  cleanup = t.cleanup;
  initRepo(dir);
  expect((await gt(dir, ['init'])).code).toBe(0);
});
afterEach(() => cleanup());

async function create(title: string, ...extra: string[]): Promise<Bead> {
  const r = await gt(dir, ['bead', 'create', title, '--json', ...extra]);
  expect(r.stderr).toBe('');
  return r.json<Bead>();
}

describe('gt bead', () => {
  test('create, show, list, update, close and reopen', async () => {
    const a = await create('Design the API', '--priority', '1', '--label', 'api', '--label', 'design', '--body', 'REST');
    const b = await create('Build the API', '--blocked-by', a.id);

    expect(a).toMatchObject({ title: 'Design the API', priority: 1, labels: ['api', 'design'], body: 'REST', status: 'open' });
    expect(b.blockedBy).toEqual([a.id]);
    const shown = (await gt(dir, ['bead', 'show', a.id, '--json'])).json<{ bead: Bead; dependents: string[]; ready: boolean }>();
    expect(shown.dependents).toEqual([b.id]);
    expect(shown.ready).toBe(true);
    expect((await gt(dir, ['bead', 'list', '--json'])).json<Bead[]>().map((x) => x.id)).toEqual([a.id, b.id]);

    const updated = (await gt(dir, ['bead', 'update', b.id, '--title', 'Build it', '--add-label', 'backend', '--json'])).json<Bead>();
    expect(updated).toMatchObject({ title: 'Build it', labels: ['backend'] });
    expect((await gt(dir, ['bead', 'close', a.id, '--reason', 'done', '--json'])).json<Bead>()).toMatchObject({
      status: 'closed',
      closeReason: 'done',
    });
    expect((await gt(dir, ['bead', 'list', '--status', 'closed', '--json'])).json<Bead[]>().map((x) => x.id)).toEqual([a.id]);
    expect((await gt(dir, ['bead', 'reopen', a.id, '--json'])).json<Bead>().status).toBe('open');
    expect((await gt(dir, ['bead', 'show', a.id])).stdout).toContain('Design the API');
  });

  test('bad input: one line on stderr, non-zero exit, nothing written', async () => {
    const cases: [string[], RegExp][] = [
      [['bead', 'create', ''], /title/],
      [['bead', 'create', 'x', '--priority', '7'], /0 to 4/],
      [['bead', 'create', 'x', '--blocked-by', 'gt-nope'], /unknown blocker gt-nope/],
      [['bead', 'show', 'not-an-id'], /not a bead id/],
      [['bead', 'show', 'gt-zzzz'], /no bead gt-zzzz/],
      [['bead', 'list', '--status', 'sleeping'], /unknown status/],
      [['bead', 'update', 'gt-zzzz'], /nothing to update/],
      [['bead', 'import', join(dir ?? '/', 'missing.jsonl')], /cannot read/],
      [['bead', 'frobnicate'], /unknown command/],
      [['sling', 'gt-zzzz'], /no bead gt-zzzz/],
      [['trail', '--since', 'yesterday-ish'], /--since/],
      [['sync'], /no remote/],
    ];
    for (const [args, message] of cases) {
      const r = await gt(dir, args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stdout, args.join(' ')).toBe('');
    }
    expect((await gt(dir, ['bead', 'list', '--json'])).json<Bead[]>()).toEqual([]);
  });

  test('gt init sets and keeps rig settings; bad values are refused', async () => {
    const set = await gt(dir, ['init', '--agent-command', 'claude -p', '--concurrency', '3', '--gate', 'npm test', '--json']);
    expect(set.json()).toMatchObject({ concurrency: 3, gate: 'npm test', agent: { kind: 'command', command: 'claude -p' } });
    // Running it again keeps what was set.
    expect((await gt(dir, ['init', '--json'])).json()).toMatchObject({ concurrency: 3, agent: { kind: 'command' } });
    expect((await gt(dir, ['init', '--agent', 'robot'])).stderr).toMatch(/--agent must be script, command or builtin/);
    expect((await gt(dir, ['init', '--agent', 'command'])).stderr).toMatch(/needs --agent-command/);
    const usage = await gt(dir, ['init', '--agent-command', 'claude -p --output-format json', '--agent-usage', 'claude-json', '--json']);
    expect(usage.json()).toMatchObject({ agent: { kind: 'command', usageParser: 'claude-json' } });
    expect((await gt(dir, ['init', '--agent-command', 'x', '--agent-usage', 'yaml'])).stderr).toMatch(/--agent-usage must be claude-json/);
    expect((await gt(dir, ['init', '--concurrency', '99'])).code).toBe(2);
    expect((await gt(dir, ['init', '--prefix', 'gastown'])).stderr).toMatch(/prefix/);
  });

  test('a command outside a rig says how to make one', async () => {
    const t = tempDir('norig');
    initRepo(t.path);
    const r = await gt(t.path, ['ready']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/gt init/);
    t.cleanup();
  });
});

describe('gt bead import', () => {
  test('bulk creates from JSON Lines in one go, resolving keys and existing ids', async () => {
    const existing = await create('Existing');
    const lines = [
      { key: 'schema', title: 'Schema', priority: 0, labels: ['db'] },
      { key: 'api', title: 'API', blocked_by: ['schema', existing.id] },
      { title: 'Docs', body: 'write them', blocked_by: ['api'] },
    ].map((l) => JSON.stringify(l));

    const r = await gt(dir, ['bead', 'import', '-', '--json'], { stdin: `${lines.join('\n')}\n` });

    expect(r.code).toBe(0);
    const ids = r.json<Record<string, string>>();
    expect(Object.keys(ids).sort()).toEqual(['3', 'api', 'schema']); // the key, or the line number
    const api = (await gt(dir, ['bead', 'show', ids.api!, '--json'])).json<{ bead: Bead }>().bead;
    expect(api.blockedBy.sort()).toEqual([ids.schema!, existing.id].sort());
    expect((await gt(dir, ['bead', 'show', ids['3']!, '--json'])).json<{ bead: Bead }>().bead.blockedBy).toEqual([ids.api]);
  });

  test('a bad line rejects the whole file and names the line', async () => {
    const bad = [
      ['{"title":"ok"}\n{"title":"x","blocked_by":["nope"]}', /line 2: blocked_by "nope"/],
      ['{"title":"ok"}\nnot json', /line 2: not valid JSON/],
      ['{"key":"a","title":"A","blocked_by":["b"]}\n{"key":"b","title":"B","blocked_by":["a"]}', /cycle: (a -> b -> a|b -> a -> b)/],
      ['{"key":"a","title":"A"}\n{"key":"a","title":"B"}', /line 2: key "a" already used on line 1/],
      ['{"title":"A","colour":"red"}', /line 1/],
      ['', /no lines/],
    ] as const;
    for (const [input, message] of bad) {
      const r = await gt(dir, ['bead', 'import', '-'], { stdin: input });
      expect(r.code, input).not.toBe(0);
      expect(r.stderr, input).toMatch(message);
    }
    expect((await gt(dir, ['bead', 'list', '--json'])).json<Bead[]>()).toEqual([]);
  });
});

describe('dependencies and readiness', () => {
  test('ready follows blockers; cycles are refused', async () => {
    const a = await create('A');
    const b = await create('B');
    const c = await create('C', '--priority', '0');
    expect((await gt(dir, ['dep', 'add', b.id, '--blocked-by', a.id])).code).toBe(0);
    expect((await gt(dir, ['dep', 'add', c.id, '--blocked-by', b.id])).code).toBe(0);

    expect((await gt(dir, ['ready', '--json'])).json<Bead[]>().map((x) => x.id)).toEqual([a.id]);
    const cycle = await gt(dir, ['dep', 'add', a.id, '--blocked-by', c.id]);
    expect(cycle.code).toBe(1);
    expect(cycle.stderr).toMatch(/cycle/);

    await gt(dir, ['bead', 'close', a.id]);
    expect((await gt(dir, ['ready', '--json'])).json<Bead[]>().map((x) => x.id)).toEqual([b.id]);
    expect((await gt(dir, ['dep', 'rm', c.id, '--blocked-by', b.id])).code).toBe(0);
    // C has priority 0, so it comes first.
    expect((await gt(dir, ['ready', '--json'])).json<Bead[]>().map((x) => x.id)).toEqual([c.id, b.id]);
    expect((await gt(dir, ['dep', 'rm', c.id, '--blocked-by', b.id])).stderr).toMatch(/not blocked by/);
  });
});

describe('convoys, sling and hooks', () => {
  test('convoy status shows progress, states and edges; sling claims with compare-and-swap', async () => {
    const a = await create('A');
    const b = await create('B', '--blocked-by', a.id);
    const convoy = (await gt(dir, ['convoy', 'create', 'Ship it', a.id, b.id, '--json'])).json<Convoy>();

    const slung = (await gt(dir, ['sling', a.id, '--json'])).json<{ polecat: string; bead: Bead }>();
    expect(slung.bead).toMatchObject({ status: 'hooked', assignee: slung.polecat });
    // The same bead cannot be slung twice; a blocked bead cannot be slung at all.
    expect((await gt(dir, ['sling', a.id])).stderr).toMatch(/is hooked, not open/);
    expect((await gt(dir, ['sling', b.id])).stderr).toMatch(/blocked by/);
    // A named polecat that is busy is refused.
    const c = await create('C');
    expect((await gt(dir, ['sling', c.id, slung.polecat])).stderr).toMatch(/already has/);
    expect((await gt(dir, ['hook', slung.polecat, '--json'])).json<{ bead: Bead }>().bead.id).toBe(a.id);

    const status = (await gt(dir, ['convoy', 'status', convoy.id, '--json'])).json<{
      edges: unknown[];
      progress: { total: number };
      beads: Bead[];
    }>();
    expect(status.edges).toEqual([{ from: a.id, to: b.id }]);
    expect(status.progress.total).toBe(2);
    expect((await gt(dir, ['convoy', 'status', convoy.id])).stdout).toMatch(/0\/2/);
    expect((await gt(dir, ['convoy', 'list', '--json'])).json<unknown[]>()).toHaveLength(1);

    expect((await gt(dir, ['unsling', a.id, '--json'])).json<Bead>().status).toBe('open');
    expect((await gt(dir, ['hook', slung.polecat, '--json'])).json<{ bead: Bead | null }>().bead).toBeNull();
    // The polecat keeps its identity: the next sling reuses it.
    expect((await gt(dir, ['sling', a.id, '--json'])).json<{ polecat: string; newPolecat: boolean }>()).toEqual(
      expect.objectContaining({ polecat: slung.polecat, newPolecat: false }),
    );
  });

  test('parallel slings from separate processes never hook one bead twice', async () => {
    const beads = await Promise.all(['A', 'B', 'C', 'D'].map((t) => create(t)));
    const bin = join(import.meta.dirname, '..', '..', 'bin', 'gt.cjs');
    const run = promisify(execFile);
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () => run(process.execPath, [bin, 'sling', beads[0]!.id, '--json'], { cwd: dir, env: TEST_GIT_ENV })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    void beads;
  });
});

describe('gt convoy approve and stop: the operations GitHub and Slack call', () => {
  test('a plan waits for approval; approve slings its ready bead; stop takes work back; a non-convoy is refused', async () => {
    expect((await gt(dir, ['init', '--approval', 'required'])).code).toBe(0);
    expect((await gt(dir, ['init', '--approval', 'maybe'])).stderr).toMatch(/--approval must be required or off/);
    writeFileSync(join(dir, 'goal.md'), '# Two things\n- [ ] First\n- [ ] Second\n');
    const planned = await gt(dir, ['sling', '--goal-file', 'goal.md', '--json']);
    const convoy = planned.json<{ convoy: Convoy }>().convoy;
    expect(convoy.status).toBe('awaiting_approval');

    const approved = await gt(dir, ['convoy', 'approve', convoy.id, '--json']);
    expect(approved.stderr).toBe('');
    const a = approved.json<{ convoy: Convoy; slung: { bead: Bead; polecat: string }[] }>();
    expect(a.convoy).toMatchObject({ status: 'active', approved: true });
    expect(a.slung.length).toBeGreaterThan(0);
    // Approving twice changes nothing.
    expect((await gt(dir, ['convoy', 'approve', convoy.id, '--json'])).json<{ slung: unknown[] }>().slung).toEqual([]);

    const stopped = (await gt(dir, ['convoy', 'stop', convoy.id, '--json'])).json<{ convoy: Convoy; unslung: string[] }>();
    expect(stopped.convoy.status).toBe('stopped');
    expect(stopped.unslung.sort()).toEqual(a.slung.map((s) => s.bead.id).sort());
    expect((await gt(dir, ['convoy', 'stop', 'cv-nope'])).stderr).toMatch(/^gt: .*cv-nope/);
  });
});

describe('mail, nudges, feed, trail, status', () => {
  test('mail round trip with read marks; nudges land in the same inbox', async () => {
    const sent = (await gt(dir, ['mail', 'send', 'nux', '--subject', 'Hello', '--body', 'Please look at gt-1', '--json'])).json<{
      id: string;
    }>();
    await gt(dir, ['nudge', 'nux', 'hurry', 'up']);

    let inbox = (await gt(dir, ['mail', 'inbox', 'nux', '--json'])).json<{ id: string; read: boolean; kind: string }[]>();
    expect(inbox.map((m) => [m.kind, m.read])).toEqual([
      ['mail', false],
      ['nudge', false],
    ]);
    const read = (await gt(dir, ['mail', 'read', sent.id, '--json'])).json<{ body: string; from: string }>();
    expect(read).toMatchObject({ body: 'Please look at gt-1', from: 'tester' });
    inbox = (await gt(dir, ['mail', 'inbox', 'nux', '--json'])).json();
    expect(inbox.map((m) => m.read)).toEqual([true, false]);
    expect((await gt(dir, ['mail', 'read', 'm-nothere'])).stderr).toMatch(/no message/);
    expect((await gt(dir, ['mail', 'send', 'bad name!', '--subject', 'x'])).code).toBe(2);
  });

  test('feed, trail and status report what happened', async () => {
    const a = await create('A');
    await gt(dir, ['sling', a.id]);
    await gt(dir, ['bead', 'update', a.id, '--priority', '0']);

    const feed = (await gt(dir, ['feed', '--json'])).json<FeedEvent[]>();
    expect(feed.map((e) => e.type)).toEqual(['bead_created', 'bead_slung', 'bead_updated']);
    expect(feed.every((e) => e.actor === 'tester')).toBe(true);
    expect((await gt(dir, ['feed', '--since', '1h', '--json'])).json<FeedEvent[]>()).toHaveLength(3);
    const trail = (await gt(dir, ['trail', '--bead', a.id, '--json'])).json<{ status: string }[]>();
    expect(trail.map((t) => t.status)).toEqual(['hooked', 'hooked', 'open']);
    expect((await gt(dir, ['trail', '--json'])).json<unknown[]>().length).toBeGreaterThanOrEqual(3);
    const status = (await gt(dir, ['status', '--json'])).json<{ beads: { total: number; hooked: number }; polecats: unknown[] }>();
    expect(status.beads).toMatchObject({ total: 1, hooked: 1 });
    expect(status.polecats).toHaveLength(1);
    expect((await gt(dir, ['status'])).stdout).toMatch(/polecats:/);
  });
});

describe('gt sync and gt doctor', () => {
  test('two clones edit one bead offline and converge through gt sync', async () => {
    const root = tempDir('clisync');
    const remote = join(root.path, 'remote.git');
    git(root.path, ['init', '-q', '--bare', '-b', 'main', remote]);
    const one = join(root.path, 'one');
    const two = join(root.path, 'two');
    for (const d of [one, two]) {
      git(root.path, ['init', '-q', '-b', 'main', d]);
      expect((await gt(d, ['init', '--remote', remote])).code).toBe(0);
    }
    const bead = (await gt(one, ['bead', 'create', 'Shared', '--json'])).json<Bead>();
    await gt(one, ['sync']);
    await gt(two, ['sync']);
    await gt(one, ['bead', 'update', bead.id, '--title', 'Shared bead', '--add-label', 'one']);
    await gt(two, ['bead', 'update', bead.id, '--priority', '0', '--add-label', 'two']);

    for (const d of [one, two, one]) expect((await gt(d, ['sync', '--json'])).code).toBe(0);

    const a = (await gt(one, ['bead', 'show', bead.id, '--json'])).json<{ bead: Bead }>().bead;
    const b = (await gt(two, ['bead', 'show', bead.id, '--json'])).json<{ bead: Bead }>().bead;
    expect(a).toEqual(b);
    expect(a).toMatchObject({ title: 'Shared bead', priority: 0, labels: ['one', 'two'] });
    expect(git(one, ['rev-parse', `refs/gastown/beads/${bead.id}`])).toBe(git(two, ['rev-parse', `refs/gastown/beads/${bead.id}`]));
    const doctor = await gt(one, ['doctor', '--json']);
    expect(doctor.code).toBe(0);
    expect(doctor.json<{ name: string; ok: boolean }[]>().map((c) => c.name)).toEqual([
      'git version',
      'ledger refs',
      'ledger entities',
      'dependents index',
      'stale locks',
      'remote',
      'default branch',
      'ledger prefix',
      'agent sandbox',
    ]);
    root.cleanup();
  });
});

describe('gt doctor', () => {
  test('finds a stale lock a killed writer left, and --fix removes it', async () => {
    const { mkdirSync, writeFileSync, utimesSync, existsSync } = await import('node:fs');
    await create('Something');
    const lock = join(dir, '.git', 'refs', 'gastown', 'beads', 'gt-dead.lock');
    mkdirSync(join(dir, '.git', 'refs', 'gastown', 'beads'), { recursive: true });
    writeFileSync(lock, 'x');
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(lock, old, old);

    const found = await gt(dir, ['doctor', '--json']);
    const fixed = await gt(dir, ['doctor', '--fix', '--json']);

    expect(found.code).toBe(1);
    expect(found.json<{ name: string; ok: boolean; detail: string }[]>().find((c) => c.name === 'stale locks')).toMatchObject({
      ok: false,
    });
    expect(fixed.code).toBe(0);
    expect(existsSync(lock)).toBe(false);
  });
});

describe('the gt executable', () => {
  test('runs from any directory by its path (also through a symlink), and npx gt works at the repository root', async () => {
    const run = promisify(execFile);
    const root = join(import.meta.dirname, '..', '..');
    const bin = join(root, 'bin', 'gt');
    const viaPath = await run(bin, ['ready', '--json'], { cwd: dir, env: TEST_GIT_ENV });
    expect(JSON.parse(viaPath.stdout)).toEqual([]);
    // npm links bins; the launcher must find its files through the link.
    const { symlinkSync } = await import('node:fs');
    symlinkSync(bin, join(dir, 'gt-link'));
    const viaLink = await run(join(dir, 'gt-link'), ['bead', 'create', 'Linked', '--json'], { cwd: dir, env: TEST_GIT_ENV });
    expect(JSON.parse(viaLink.stdout)).toMatchObject({ title: 'Linked' });
    const viaNpx = await run('npx', ['--no-install', 'gt', '--version'], { cwd: root, env: TEST_GIT_ENV });
    expect(viaNpx.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const bad = await run(bin, ['bead', 'show', 'nope'], { cwd: dir, env: TEST_GIT_ENV }).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as { stderr: string }).stderr).toMatch(/^gt: not a bead id/);
  });
});
