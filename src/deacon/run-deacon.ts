import type { Rig } from '../rig/rig.js';
import { deaconPass, type DeaconOptions, type DeaconPassResult } from '../rig/deacon-pass.js';

/** The Deacon as a loop: one pass every `intervalMs` (default a third of the lease) until `signal` aborts. */
export async function runDeacon(
  rig: Rig,
  opts: DeaconOptions & { once?: boolean; signal?: AbortSignal; intervalMs?: number; onPass?: (r: DeaconPassResult) => void } = {},
): Promise<void> {
  const interval = opts.intervalMs ?? Math.max(500, Math.floor(rig.settings.leaseMs / 3));
  for (;;) {
    const r = await deaconPass(rig, opts);
    opts.onPass?.(r);
    if (opts.once || opts.signal?.aborted) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, interval);
      function done() {
        clearTimeout(t);
        opts.signal?.removeEventListener('abort', done);
        resolve();
      }
      opts.signal?.addEventListener('abort', done, { once: true });
    });
    if (opts.signal?.aborted) return;
  }
}
