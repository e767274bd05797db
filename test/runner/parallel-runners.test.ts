import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunnerSummary } from '../../src/polecat/runner/run-runner.js';
import { refineryPass } from '../../src/refinery/refinery-pass.js';
import { allBeads } from '../../src/rig/beads.js';
import { readFeed } from '../../src/rig/feed.js';
import { git } from '../helpers/temp-repo.js';
import { makeTown, scriptBead, type Town } from './town-fixture.js';

let town: Town | undefined;
const signals: string[] = [];
afterEach(() => {
  town?.cleanup();
  for (const dir of signals.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const worker = fileURLToPath(new URL('./workers/runner-child.ts', import.meta.url));

function runChild(clone: string, id: string): Promise<RunnerSummary> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker, clone, id, 'until-idle'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as RunnerSummary) : reject(new Error(`runner ${id} exited ${code}: ${err}`)),
    );
  });
}

describe('several runner processes on one rig', () => {
  it('share the work without ever working one bead twice', async () => {
    // Each bead waits until four are under way at once: with two beads per runner, that
    // takes both runners, however slowly either process starts. The sandbox keeps beads apart,
    // so the test is the go-between: it counts the marks each step leaves in its polecat's
    // HOME, then puts `go` where every sandbox can read it.
    signals.push(mkdtempSync(join(tmpdir(), 'gastown-signals-')));
    const go = signals[0]!;
    town = await makeTown({ concurrency: 4, sandbox: { env: [], network: false, readOnly: [go] } });
    const beads = [];
    const rendezvous = `touch "$HOME/started"; until [ -f ${go}/go ]; do sleep 0.05; done`;
    for (let i = 0; i < 6; i++) beads.push(await scriptBead(town.rig, `bead ${i}`, [`${rendezvous}; echo ${i} > f${i}.txt`]));
    const workspaces = join(town.clone, '.git', 'gastown', 'workspaces');
    const started = () =>
      existsSync(workspaces) ? readdirSync(workspaces).filter((w) => existsSync(join(workspaces, w, 'home', 'started'))).length : 0;
    const release = (async () => {
      const end = Date.now() + 50_000;
      while (started() < 4 && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
      writeFileSync(join(go, 'go'), '');
    })();

    const [one, two] = await Promise.all([runChild(town.clone, 'runner-one'), runChild(town.clone, 'runner-two')]);
    await release;

    const worked = [...one.outcomes, ...two.outcomes];
    expect(
      worked.map((o) => o.bead).sort(),
      JSON.stringify(worked) + JSON.stringify((await readFeed(town.rig)).filter((e) => e.type !== 'mail_sent').map((e) => e.message)),
    ).toEqual(beads.map((b) => b.id).sort());
    expect(worked.every((o) => o.outcome === 'in_review')).toBe(true);
    expect(one.outcomes.length).toBeGreaterThan(0);
    expect(two.outcomes.length).toBeGreaterThan(0);
    const after = await allBeads(town.rig);
    expect(after.map((b) => [b.status, b.attempts])).toEqual(beads.map(() => ['in_review', 1]));
    expect((await readFeed(town.rig)).filter((e) => e.type === 'bead_started')).toHaveLength(6);

    const pass = await refineryPass(town.rig, { env: process.env });

    expect(pass.merged).toHaveLength(6);
    git(town.clone, ['fetch', '-q', 'origin']);
    for (let i = 0; i < 6; i++) expect(git(town.clone, ['show', `origin/main:f${i}.txt`])).toBe(String(i));
  });
});
