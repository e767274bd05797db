/**
 * Runs one job at a time, forever: `run()` waits for the run in progress and starts the
 * next one (calls made while one is queued share it); `nudge()` is `run()` without waiting;
 * `start()` adds a timer. The promise chain is the lock, so two runs never overlap in one
 * process.
 */
export interface SerialRunner<T> {
  run(): Promise<T>;
  nudge(): void;
  start(intervalMs: number): void;
  stop(): Promise<void>;
}

export function serialRunner<T>(job: () => Promise<T>, onError: (err: unknown) => void = () => {}): SerialRunner<T> {
  let tail: Promise<unknown> = Promise.resolve();
  let queued: Promise<T> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  function run(): Promise<T> {
    if (queued) return queued;
    const next = tail.then(() => {
      // From here on a new call queues another run: it may have news this one missed.
      queued = null;
      return job();
    });
    queued = next;
    tail = next.catch(() => undefined);
    return next;
  }

  return {
    run,
    nudge() {
      if (stopped) return;
      run().catch(onError);
    },
    start(intervalMs) {
      stopped = false;
      if (timer) clearInterval(timer);
      timer = setInterval(() => {
        if (!queued) run().catch(onError);
      }, intervalMs);
      timer.unref();
      run().catch(onError);
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = null;
      await tail;
    },
  };
}
