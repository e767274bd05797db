import { describe, expect, it } from 'vitest';
import { MinHeap } from '../../src/town/min-heap.js';

describe('MinHeap', () => {
  it('pops items smallest first', () => {
    const heap = new MinHeap<number>((a, b) => a < b);
    const input = [5, 3, 9, 1, 1, 8, 2, 7, 0, 6, 4];

    for (const n of input) heap.push(n);
    const out: number[] = [];
    for (let n = heap.pop(); n !== undefined; n = heap.pop()) out.push(n);

    expect(out).toEqual([...input].sort((a, b) => a - b));
    expect(heap.size).toBe(0);
  });

  it('pops undefined when empty and tracks its size', () => {
    const heap = new MinHeap<string>((a, b) => a < b);

    expect(heap.pop()).toBeUndefined();
    heap.push('b');
    heap.push('a');
    expect(heap.size).toBe(2);
    expect(heap.pop()).toBe('a');
  });
});
