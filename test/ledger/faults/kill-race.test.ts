import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { createBead } from '../../../src/rig/beads.js';
import { inbox } from '../../../src/rig/mail.js';
import { Rig } from '../../../src/rig/rig.js';
import { initRepo, tempDir, TEST_GIT_ENV } from '../../helpers/temp-repo.js';
import { ledgerHealth } from './ledger-health.js';

const workers = join(import.meta.dirname, '..', 'workers');
const cleanups: (() => void)[] = [];
const children = new Set<ChildProcess>();
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) process.kill(-c.pid!, 'SIGKILL');
  children.clear();
  for (const c of cleanups.splice(0).reverse()) c();
});

interface Acked {
  bead: Set<string>;
  mail: Set<string>;
}

/** A writer process (its own process group, so a kill takes its cat-file child too); acks go into `acked`. */
function writer(
  dir: string,
  who: string,
  steps: number,
  bead: string,
  acked: Acked,
): { child: ChildProcess; firstAck: Promise<void>; done: Promise<number> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(workers, 'fault-writer.ts'), dir, who, String(steps), bead], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: TEST_GIT_ENV,
  });
  children.add(child);
  let buf = '';
  let stderr = '';
  let first!: () => void;
  const firstAck = new Promise<void>((r) => (first = r));
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const [, kind, tag] = buf.slice(0, nl).split(' ');
      buf = buf.slice(nl + 1);
      (kind === 'bead' ? acked.bead : acked.mail).add(tag!);
      first();
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const done = new Promise<number>((resolve) =>
    child.on('close', (code, signal) => {
      first();
      if (code !== 0 && signal !== 'SIGKILL') process.stderr.write(`writer ${who} exited ${code}: ${stderr}\n`);
      resolve(code ?? -1);
    }),
  );
  return { child, firstAck, done };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Both write paths: small transactions straight on the ref files, and (with a
// reference-transaction hook in the repository, which must see every ref change) through
// `git update-ref`. Optionally with git's own maintenance (pack-refs, gc) running beside.
describe.each([
  { path: 'ref files', hook: false, gc: false },
  { path: 'git update-ref', hook: true, gc: false },
  { path: 'ref files, with pack-refs and gc running', hook: false, gc: true },
  { path: 'git update-ref, with pack-refs and gc running', hook: true, gc: true },
])('writers killed at random ($path)', ({ hook, gc }) => {
  test('every acknowledged write is kept; no ref is emptied, dangling or left locked', async () => {
    const tmp = tempDir('kill-race');
    cleanups.push(tmp.cleanup);
    const dir = initRepo(tmp.path);
    if (hook) {
      mkdirSync(join(dir, '.git', 'hooks'), { recursive: true });
      writeFileSync(join(dir, '.git', 'hooks', 'reference-transaction'), '#!/bin/sh\nexit 0\n');
      chmodSync(join(dir, '.git', 'hooks', 'reference-transaction'), 0o755);
    }
    Rig.init(dir);
    const setup = await Rig.open({ repoDir: dir, actor: 'tester' });
    const bead = (await createBead(setup, { title: 'the contested bead' })).id;
    setup.close();
    const acked: Acked = { bead: new Set(), mail: new Set() };
    const gcLoop = gc
      ? spawn(process.execPath, ['--import', 'tsx', join(workers, 'gc-loop.ts'), dir, '15000'], { stdio: 'ignore', env: TEST_GIT_ENV })
      : null;

    // Steady writers that must finish cleanly, and victims killed at random moments
    // (after their first acknowledged write, so kills land inside transactions and inside
    // the recovery of earlier victims' leftovers).
    const steady = Array.from({ length: 3 }, (_, i) => writer(dir, `w${i}`, 15, bead, acked));
    let killed = 0;
    for (let round = 0; round < 5; round++) {
      const victims = [writer(dir, `k${round}a`, 50, bead, acked), writer(dir, `k${round}b`, 50, bead, acked)];
      await Promise.all(
        victims.map(async (v) => {
          await v.firstAck;
          await sleep(Math.random() * 40);
          if (v.child.exitCode === null) {
            process.kill(-v.child.pid!, 'SIGKILL');
            killed++;
          }
          await v.done;
        }),
      );
    }
    const codes = await Promise.all(steady.map((s) => s.done));
    if (gcLoop) await new Promise((r) => gcLoop.once('close', r));

    expect(codes).toEqual([0, 0, 0]);
    expect(killed).toBeGreaterThanOrEqual(5);
    const rig = await Rig.open({ repoDir: dir, actor: 'checker' });
    cleanups.push(() => rig.close());
    // One more write through the ledger: whatever a victim left on these refs is recovered on the way.
    await rig.ledger.transact((tx) => tx.append('mail', 'mayor', { message: { id: 'last' } }));
    const labels = new Set((await rig.ledger.get<{ labels: string[] }>('beads', bead))!.value.labels);
    const subjects = new Set((await inbox(rig, 'mayor')).map((m) => m.subject));
    expect([...acked.bead].filter((t) => !labels.has(t))).toEqual([]);
    expect([...acked.mail].filter((t) => !subjects.has(t))).toEqual([]);
    expect(acked.bead.size).toBeGreaterThanOrEqual(45);
    await rig.ledger.clearLocks();
    const health = ledgerHealth(dir);
    expect(health).toEqual({ brokenRefs: [], locks: [], fsck: [] });
  }, 180_000);
});
