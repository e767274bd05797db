import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { git, tempDir } from '../helpers/temp-repo.js';
import { gtx } from '../runner/run-gt-lazy.js';
import '../runner/town-fixture.js';

let dir: { path: string; cleanup(): void } | undefined;
afterEach(() => dir?.cleanup());

describe('gt demo', () => {
  it('runs the local town end to end: 5 beads planned, worked by 3 polecats, merged in order, convoy landed', async () => {
    dir = tempDir('gastown-demo-test');
    const at = join(dir.path, 'town');
    const started = Date.now();

    const r = await gtx(dir.path, ['demo', '--dir', at]);

    expect(r.stderr).not.toMatch(/^gt: /m);
    expect(r.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(45_000);
    expect(r.stdout).toMatch(/convoy cv-[0-9a-z]+ landed in [\d.]+ s: 5 beads merged by the Refinery/);
    expect(r.stdout).toMatch(/beads: 5 total, 0 ready, 0 open, 0 hooked, 0 in progress, 0 in review, 5 closed, 0 failed/);
    expect(r.stdout).toContain(`rig:     ${join(at, 'rig')}`);
    // Three polecats worked at once: each printed progress, and the first three beads started before any merge.
    const lines = r.stderr.split('\n');
    const polecats = new Set(lines.map((l) => /^(\S+)\s+gt-\S+\s+step \d\/\d/.exec(l)?.[1]).filter(Boolean));
    expect(polecats.size).toBe(3);
    const firstMerge = lines.findIndex((l) => l.startsWith('refinery: merging'));
    expect(
      lines.slice(0, firstMerge).filter((l) => /\bclaimed$/.test(l)),
      r.stderr,
    ).toHaveLength(3);
    // main on the remote and in the rig holds the 5 beads' work, merged in dependency order.
    const rig = join(at, 'rig');
    const beadsOnMain = git(rig, ['log', '--format=%(trailers:key=Gastown-Bead,valueonly)', 'main']).split('\n').filter(Boolean);
    expect(new Set(beadsOnMain).size).toBe(5);
    expect(git(join(at, 'remote.git'), ['rev-parse', 'main'])).toBe(git(rig, ['rev-parse', 'main']));
    const mergedOrder = lines.filter((l) => l.startsWith('refinery: merged')).map((l) => l.split(' ')[2]);
    expect(mergedOrder).toHaveLength(5);
    const titleOf = (id: string) => lines.find((l) => l.startsWith(`  ${id}  `)) ?? '';
    expect(titleOf(mergedOrder[4]!)).toMatch(/Document every operation/);
    expect(mergedOrder.findIndex((id) => /Add the add/.test(titleOf(id!)))).toBeLessThan(
      mergedOrder.findIndex((id) => /Add mul/.test(titleOf(id!))),
    );
    expect(readFileSync(join(rig, 'README.md'), 'utf8')).toMatch(/## Operations\n\n- `add`.*\n- `max`.*\n- `mul`.*\n- `sub`/);
    expect(execFileSync('sh', ['test.sh'], { cwd: rig, encoding: 'utf8' })).toBe('8 cases\n');
    // Nuke: the landed convoy leaves no polecat branch behind, in the rig, its tracking refs or the remote.
    expect(git(rig, ['branch', '-a', '--format=%(refname)'])).not.toMatch(/polecat\//);
    expect(git(join(at, 'remote.git'), ['for-each-ref', '--format=%(refname)', 'refs/heads/'])).toBe('refs/heads/main');
    expect(git(rig, ['worktree', 'list', '--porcelain'])).not.toMatch(/prunable/);
  });

  it('runs unsandboxed with a warning where bwrap cannot make namespaces, even where the user sandbox could run (its Refinery gate needs bwrap)', async () => {
    dir = tempDir('gastown-demo-test');
    const bin = join(dir.path, 'restricted-bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'bwrap'), '#!/bin/sh\necho "bwrap: setting up uid map: Permission denied" >&2\nexit 1\n', { mode: 0o755 });

    const r = await gtx(dir.path, ['demo', '--dir', join(dir.path, 'town')], { PATH: `${bin}:${process.env.PATH}` });

    expect(r.stderr).not.toMatch(/^gt: /m);
    expect(r.code).toBe(0);
    expect(`${r.stdout}${r.stderr}`).toContain(
      `warning: ${bin}/bwrap cannot start a sandbox (bwrap: setting up uid map: Permission denied): the demo's agents run unsandboxed`,
    );
    expect(r.stdout).toMatch(/convoy cv-[0-9a-z]+ landed in [\d.]+ s: 5 beads merged by the Refinery/);
  });

  it('refuses a directory that is not empty', async () => {
    dir = tempDir('gastown-demo-test');
    writeFileSync(join(dir.path, 'precious.txt'), 'keep me');

    const r = await gtx(dir.path, ['demo', '--dir', dir.path]);

    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not empty/);
    expect(readFileSync(join(dir.path, 'precious.txt'), 'utf8')).toBe('keep me');
  });
});
