/**
 * Bounds how many service calls run at once, and starts each one on a later turn of the
 * event loop. Slack's acknowledgements then win over the git work of earlier commands: a
 * burst of 200 slash commands is acknowledged first and worked through a few at a time,
 * instead of 200 git processes being spawned while later requests wait to be read.
 */
export type WorkLimiter = <T>(work: () => Promise<T>) => Promise<T>;

export function workLimiter(max: number): WorkLimiter {
  let running = 0;
  const waiting: (() => void)[] = [];

  const release = () => {
    running -= 1;
    const next = waiting.shift();
    if (next) {
      running += 1;
      next();
    }
  };

  return async (work) => {
    await new Promise<void>((r) => setImmediate(r));
    if (running < max) running += 1;
    else await new Promise<void>((r) => waiting.push(r));
    try {
      return await work();
    } finally {
      release();
    }
  };
}
