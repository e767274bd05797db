import { describe, expect, it } from 'vitest';
import { createProgressBoard } from '../../src/polecat/runner/progress-board.js';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return {
    out: { write: (s: string) => (chunks.push(s), true), isTTY } as unknown as NodeJS.WritableStream & { isTTY?: boolean },
    text: () => chunks.join(''),
  };
}

describe('progress board', () => {
  it('prints one line per update when not on a terminal', () => {
    const s = sink(false);
    const board = createProgressBoard(s.out);

    board.update('nux', 'gt-1a2b', 'step 1/3: npm test');
    board.note('refinery: merged gt-1a2b');
    board.update('nux', 'gt-1a2b', 'step 2/3: make');

    expect(s.text()).toBe('nux       gt-1a2b   step 1/3: npm test\nrefinery: merged gt-1a2b\nnux       gt-1a2b   step 2/3: make\n');
  });

  it('on a terminal keeps one live line per polecat, redrawn in place, with notes above', () => {
    const s = sink(true);
    const board = createProgressBoard(s.out);

    board.update('nux', 'gt-1a2b', 'step 1/3');
    board.update('slit', 'gt-3c4d', 'step 1/2');
    board.update('nux', 'gt-1a2b', 'step 2/3');
    board.note('merged');
    board.remove('nux');
    board.close();

    const frames = s.text().split('\x1b[');
    // Each redraw moves up over the block it drew and clears it, so the block never grows.
    expect(s.text()).toContain('\x1b[2A\x1b[0Jnux       gt-1a2b   step 2/3\nslit      gt-3c4d   step 1/2\n');
    expect(s.text()).toContain('\x1b[2A\x1b[0Jmerged\nnux       gt-1a2b   step 2/3\nslit      gt-3c4d   step 1/2\n');
    expect(s.text().endsWith('\x1b[2A\x1b[0Jslit      gt-3c4d   step 1/2\n\x1b[1A\x1b[0J')).toBe(true);
    expect(frames.length).toBeGreaterThan(4);
  });

  it('says nothing when quiet (--json)', () => {
    const s = sink(true);
    const board = createProgressBoard(s.out, true);
    board.update('nux', 'gt-1a2b', 'x');
    board.note('y');
    board.close();
    expect(s.text()).toBe('');
  });
});
