import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { Bead } from '../../src/town/types.js';
import { BAD_BEADS, writeRawEntity } from '../helpers/corrupt-entity.js';
import { git, initRepo, tempDir } from '../helpers/temp-repo.js';
import { gt } from './run-gt.js';

let dir: string;
let cleanup: () => void;
beforeEach(async () => {
  const t = tempDir('doctor-refs');
  dir = initRepo(t.path);
  cleanup = t.cleanup;
  expect((await gt(dir, ['init'])).code).toBe(0);
});
afterEach(() => cleanup());

async function create(title: string): Promise<Bead> {
  return (await gt(dir, ['bead', 'create', title, '--json'])).json<Bead>();
}

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

test('gt doctor names an emptied and a dangling ref; --fix puts each back to its last good version, and says what it could not', async () => {
  const emptied = await create('Emptied by a crash');
  await gt(dir, ['bead', 'update', emptied.id, '--add-label', 'kept']);
  const dangling = await create('Pointing at nothing');
  await gt(dir, ['bead', 'list']); // the list cache now knows both
  const lastGood = git(dir, ['rev-parse', `refs/gastown/beads/${emptied.id}`]);
  const danglingGood = git(dir, ['rev-parse', `refs/gastown/beads/${dangling.id}`]);
  writeFileSync(join(dir, '.git', 'refs', 'gastown', 'beads', emptied.id), '');
  writeFileSync(join(dir, '.git', 'refs', 'gastown', 'beads', dangling.id), `${'ab'.repeat(20)}\n`);
  // One with no earlier version anywhere: a ref made by hand to a missing object.
  writeFileSync(join(dir, '.git', 'refs', 'gastown', 'beads', 'gt-ghost'), `${'cd'.repeat(20)}\n`);

  const found = await gt(dir, ['doctor', '--json']);
  const fixed = await gt(dir, ['doctor', '--fix', '--json']);
  const after = await gt(dir, ['doctor', '--json']);

  const refsCheck = (r: typeof found) => r.json<Check[]>().find((c) => c.name === 'ledger refs')!;
  expect(found.code).toBe(1);
  expect(refsCheck(found).detail).toContain(`refs/gastown/beads/${emptied.id} (the ref file is empty)`);
  expect(refsCheck(found).detail).toContain(`refs/gastown/beads/${dangling.id} (its commit abababababab is missing)`);
  expect(refsCheck(found).detail).toContain('refs/gastown/beads/gt-ghost');
  expect(refsCheck(fixed).detail).toContain(`restored refs/gastown/beads/${emptied.id} to ${lastGood.slice(0, 12)}`);
  expect(refsCheck(fixed).detail).toContain(`restored refs/gastown/beads/${dangling.id} to ${danglingGood.slice(0, 12)}`);
  expect(refsCheck(fixed).detail).toContain('could not restore refs/gastown/beads/gt-ghost');
  expect(fixed.code).toBe(1);
  const shown = await gt(dir, ['bead', 'show', emptied.id, '--json']);
  expect(shown.json<{ bead: Bead }>().bead.labels).toEqual(['kept']);
  expect(refsCheck(after).detail).not.toContain(emptied.id);
  rmSync(join(dir, '.git', 'refs', 'gastown', 'beads', 'gt-ghost'));
  expect((await gt(dir, ['doctor', '--json'])).code).toBe(0);
});

test('without a list cache, the history of the entity (unreachable commits) restores an emptied ref', async () => {
  const bead = await create('Only in history');
  await gt(dir, ['bead', 'update', bead.id, '--add-label', 'second']);
  const lastGood = git(dir, ['rev-parse', `refs/gastown/beads/${bead.id}`]);
  rmSync(join(dir, '.git', 'gastown', 'cache'), { recursive: true, force: true });
  writeFileSync(join(dir, '.git', 'refs', 'gastown', 'beads', bead.id), '');

  const fixed = await gt(dir, ['doctor', '--fix', '--json']);

  expect(fixed.json<Check[]>().find((c) => c.name === 'ledger refs')!.detail).toContain(`to ${lastGood.slice(0, 12)} (from the history)`);
  expect((await gt(dir, ['bead', 'show', bead.id, '--json'])).json<{ bead: Bead }>().bead.labels).toEqual(['second']);
});

test('gt doctor --fix puts a bead whose last version does not validate back to the version before, on top of the bad one; one with no good version is named', async () => {
  const bead = await create('Good, then broken');
  await gt(dir, ['bead', 'update', bead.id, '--add-label', 'good']);
  const good = git(dir, ['rev-parse', `refs/gastown/beads/${bead.id}`]);
  const bad = writeRawEntity(dir, `refs/gastown/beads/${bead.id}`, { ...BAD_BEADS.badJson(), parent: good });
  writeRawEntity(dir, 'refs/gastown/beads/gt-only-bad', BAD_BEADS.wrongShape());

  const fixed = await gt(dir, ['doctor', '--fix', '--json']);

  const detail = fixed.json<Check[]>().find((c) => c.name === 'ledger entities')!.detail;
  expect(detail).toContain(`restored refs/gastown/beads/${bead.id} to its last good version`);
  expect(detail).toContain('could not restore refs/gastown/beads/gt-only-bad: no earlier version validates');
  expect((await gt(dir, ['bead', 'show', bead.id, '--json'])).json<{ bead: Bead }>().bead.labels).toEqual(['good']);
  expect(git(dir, ['rev-parse', `refs/gastown/beads/${bead.id}^`])).toBe(bad);
});
