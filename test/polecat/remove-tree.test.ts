import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeTree } from '../../src/polecat/remove-tree.js';
import { removeWorkspace } from '../../src/polecat/workspace.js';
import { tempDir } from '../helpers/temp-repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A workspace of 20 directories of 10 files, and a directory outside it that must survive. */
function scene() {
  const root = tempDir('remove-tree');
  cleanups.push(root.cleanup);
  const outside = join(root.path, 'outside');
  mkdirSync(outside);
  for (let i = 0; i < 50; i++) writeFileSync(join(outside, `keep${i}`), 'x');
  const ws = join(root.path, 'ws');
  mkdirSync(ws);
  for (let d = 0; d < 20; d++) {
    mkdirSync(join(ws, `d${d}`));
    for (let i = 0; i < 10; i++) writeFileSync(join(ws, `d${d}`, `f${i}`), 'x');
  }
  return { ws, outside };
}

describe('removeTree', () => {
  it('removes the whole tree, links and all, and never what a link points at', () => {
    const { ws, outside } = scene();
    symlinkSync(outside, join(ws, 'link-to-dir'));
    symlinkSync(join(outside, 'keep0'), join(ws, 'd0', 'link-to-file'));
    symlinkSync(join(outside, 'missing'), join(ws, 'dangling'));

    removeTree(ws);
    removeTree(ws);

    expect(existsSync(ws)).toBe(false);
    expect(readdirSync(outside)).toHaveLength(50);
  });

  it('removeWorkspace deletes nothing outside while a process of the agent swaps its directories for symlinks out (fs.rm did, in 17 rounds of 30)', async () => {
    for (let round = 0; round < 30; round++) {
      const { ws, outside } = scene();
      // What a process the agent left running could do while the runner removes its workspace.
      const swapper = spawn(
        'bash',
        [
          '-c',
          `cd ${ws}; while :; do for d in d*; do [ -d "$d" ] && mv "$d" "x$d" 2>/dev/null && ln -s ${outside} "$d" 2>/dev/null; done; sleep 0.001; done`,
        ],
        { stdio: 'ignore' },
      );
      await new Promise((r) => setTimeout(r, 5));
      try {
        await removeWorkspace(ws);
      } catch {
        // A directory refilled by the swapper stays: not what this test is about.
      }
      const gone = new Promise((r) => swapper.once('exit', r));
      swapper.kill('SIGKILL');
      await gone;

      expect(readdirSync(outside), `round ${round}`).toHaveLength(50);
    }
  }, 180_000);
});
