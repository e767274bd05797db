import type { Rig } from '../rig/rig.js';
import { emptyPassResult, refineryPass, type RefineryOptions, type RefineryPassResult } from './refinery-pass.js';

/**
 * The Refinery as a loop: a pass, then a pause when it found nothing to merge. `once` makes
 * one pass. Stops when `signal` aborts (between passes; a merge in flight finishes).
 */
export async function runRefinery(
  rig: Rig,
  opts: RefineryOptions & { once?: boolean; signal?: AbortSignal; pollMs?: number },
): Promise<RefineryPassResult> {
  const total = emptyPassResult();
  for (;;) {
    const pass = await refineryPass(rig, opts);
    for (const k of ['merged', 'landed', 'sentBack', 'failed', 'needsHuman', 'rebasing'] as const) total[k].push(...pass[k]);
    total.waiting = pass.waiting;
    total.raced = pass.raced;
    if (opts.once || opts.signal?.aborted) return total;
    if (pass.merged.length + pass.sentBack.length + pass.failed.length === 0) await pause(opts.pollMs ?? 1000, opts.signal);
    if (opts.signal?.aborted) return total;
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
