import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { DoctorCheck } from '../../src/rig/doctor.js';
import type { Bead, Convoy, FeedEvent, MailMessage } from '../../src/town/types.js';
import { BAD_BEADS, writeRawEntity, type RawEntity } from '../helpers/corrupt-entity.js';
import { git, initRepo, tempDir } from '../helpers/temp-repo.js';
import { gt } from './run-gt.js';

let dir: string;
let cleanup: () => void;
beforeEach(async () => {
  const t = tempDir('cli-corrupt');
  dir = t.path;
  cleanup = t.cleanup;
  initRepo(dir);
  expect((await gt(dir, ['init'])).code).toBe(0);
});
afterEach(() => cleanup());

async function ok<T>(args: string[]): Promise<{ value: T; stderr: string }> {
  const r = await gt(dir, [...args, '--json']);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return { value: r.json<T>(), stderr: r.stderr };
}

/** Two good beads (the second blocked by the first) in a convoy. */
async function goodTown(): Promise<{ a: Bead; b: Bead }> {
  const a = (await ok<Bead>(['bead', 'create', 'First'])).value;
  const b = (await ok<Bead>(['bead', 'create', 'Second', '--blocked-by', a.id])).value;
  await ok<Convoy>(['convoy', 'create', 'Both', a.id, b.id]);
  return { a, b };
}

const BAD_REF = 'refs/gastown/beads/gt-bad0';

describe.each([
  ['bad JSON in the tree and none in the message', BAD_BEADS.badJson, 'bead.json is not valid JSON'],
  ['a commit with no bead.json', BAD_BEADS.noFile, 'holds no bead.json'],
  ['a wrongly shaped value', BAD_BEADS.wrongShape, 'bead.json does not validate: id:'],
] as [string, () => RawEntity, string][])('a bead with %s', (_what, make, problem) => {
  test('list, show of another bead, ready, status and convoy list work and warn once', async () => {
    const { a, b } = await goodTown();
    writeRawEntity(dir, BAD_REF, make());
    const warning = (stderr: string) => {
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(new RegExp(`^warning: skipped ${BAD_REF}: .*${problem.replace(/[.*]/g, '\\$&')}`));
    };

    const list = await ok<Bead[]>(['bead', 'list']);
    const text = await gt(dir, ['bead', 'list']);
    const show = await ok<{ bead: Bead; dependents: string[] }>(['bead', 'show', a.id]);
    const ready = await ok<Bead[]>(['ready']);
    const status = await ok<{ beads: { total: number } }>(['status']);
    const convoys = await ok<{ convoy: Convoy; progress: { total: number } }[]>(['convoy', 'list']);

    expect(list.value.map((x) => x.id)).toEqual([a.id, b.id]);
    warning(list.stderr);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(a.id);
    warning(text.stderr);
    expect(show.value.dependents).toEqual([b.id]);
    // show reads the bead, its blockers and its dependents index: not the bad bead.
    expect(show.stderr).toBe('');
    expect(ready.value.map((x) => x.id)).toEqual([a.id]);
    warning(ready.stderr);
    expect(status.value.beads.total).toBe(2);
    warning(status.stderr);
    expect(convoys.value.map((c) => c.progress.total)).toEqual([2]);
    warning(convoys.stderr);
  });

  test('show of the bad bead names it and points to gt doctor; gt doctor lists it', async () => {
    await goodTown();
    writeRawEntity(dir, BAD_REF, make());

    const show = await gt(dir, ['bead', 'show', 'gt-bad0']);
    const doctor = await gt(dir, ['doctor', '--json']);

    expect(show.code).toBe(1);
    expect(show.stderr).toMatch(new RegExp(`^gt: ${BAD_REF} is corrupt: .+ \\(run gt doctor\\)\\n$`));
    expect(doctor.code).toBe(1);
    const entities = doctor.json<DoctorCheck[]>().find((c) => c.name === 'ledger entities')!;
    expect(entities.ok).toBe(false);
    expect(entities.detail).toContain(`${BAD_REF} (`);
    expect(entities.detail).toContain(problem);
  });
});

describe('bad chain entries', () => {
  test('gt mail inbox skips a bad entry and shows the rest, with one warning', async () => {
    await ok<MailMessage>(['mail', 'send', 'mayor', '--subject', 'before']);
    const ref = 'refs/gastown/mail/mayor';
    const bad = writeRawEntity(dir, ref, {
      files: { 'message.json': '"x"' },
      message: 'mail to mayor\n\n"x"\n',
      parent: git(dir, ['rev-parse', ref]),
    });
    await ok<MailMessage>(['mail', 'send', 'mayor', '--subject', 'after']);

    const inbox = await ok<MailMessage[]>(['mail', 'inbox', 'mayor']);
    const text = await gt(dir, ['mail', 'inbox', 'mayor']);

    expect(inbox.value.map((m) => m.subject)).toEqual(['before', 'after']);
    expect(inbox.stderr).toBe(
      `warning: skipped ${ref}: ${bad.slice(0, 12)}: message.json does not validate: Invalid input (see gt doctor)\n`,
    );
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('after');
  });

  test('gt feed skips a bad event and shows the rest, with one warning; gt doctor names it', async () => {
    await goodTown();
    const ref = 'refs/gastown/feed/elsewhere';
    writeRawEntity(dir, ref, { files: { 'event.json': '{"id": 1}' }, message: 'feed x\n\n{"id": 1}\n' });

    const feed = await ok<FeedEvent[]>(['feed']);
    const text = await gt(dir, ['feed']);
    const doctor = await gt(dir, ['doctor', '--json']);

    expect(feed.value.map((e) => e.type)).toEqual(['bead_created', 'bead_created', 'convoy_planned']);
    expect(feed.stderr).toMatch(new RegExp(`^warning: skipped ${ref}: [0-9a-f]{12}: event.json does not validate: id: .+\\n$`));
    expect(text.code).toBe(0);
    expect(doctor.json<DoctorCheck[]>().find((c) => c.name === 'ledger entities')!.detail).toContain(ref);
  });
});

describe('gt init --prefix', () => {
  test.each([
    ['refs/../../../escape/', 'must not contain ..'],
    ['refs/.hidden/', 'no segment may start with .'],
    ['refs/ok/x.lock/', 'no segment may end with .lock'],
    ['refs/a b/', 'must not contain spaces'],
    ['refs/a//b/', 'must not contain //'],
    ['gastown/', 'must start with refs/'],
  ])('refuses %j with one line and exit code 2, and keeps the settings', async (prefix, reason) => {
    const nested = join(dir, 'a', 'b', 'repo');
    mkdirSync(nested, { recursive: true });
    initRepo(nested);
    expect((await gt(nested, ['init'])).code).toBe(0);

    const r = await gt(nested, ['init', '--prefix', prefix]);
    await gt(nested, ['bead', 'create', 'After']);

    expect(r.code).toBe(2);
    expect(r.stderr.startsWith(`gt: bad --prefix ${JSON.stringify(prefix)}: ${reason}`)).toBe(true);
    expect(r.stderr.endsWith(' (e.g. refs/gastown/)\n')).toBe(true);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(nested, '.git', 'gastown', 'rig.json'), 'utf8')).prefix).toBe('refs/gastown/');
    expect(existsSync(join(dir, 'a', 'escape'))).toBe(false);
    expect(existsSync(join(dir, 'a', 'b', 'escape'))).toBe(false);
  });

  test('takes a prefix git accepts', async () => {
    const r = await gt(dir, ['init', '--prefix', 'refs/heads/gastown-ledger/']);
    const bead = (await ok<Bead>(['bead', 'create', 'On a branch'])).value;

    expect(r.code).toBe(0);
    expect(git(dir, ['rev-parse', '--verify', `refs/heads/gastown-ledger/beads/${bead.id}`])).toMatch(/^[0-9a-f]{40}$/);
  });
});
