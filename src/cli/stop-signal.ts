/**
 * Runs long work (runner, Refinery, Deacon) with an AbortSignal that SIGINT or SIGTERM
 * trips, so the work stops at its next safe point (a checkpoint, a pass boundary) instead
 * of dying half way; the handlers are removed when the work ends.
 */
export async function withStopSignal<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await fn(stop.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
