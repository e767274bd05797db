import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Traced<T> {
  result: T;
  /** The argv of every git process started (its own and its children's), in order. */
  argvs: string[][];
  /** The git subcommand each of those processes ran (`fetch`, `push`, `remote-curl`...). */
  commands: string[];
}

/**
 * The git processes a call starts (from this process, and theirs), from git's own trace
 * (GIT_TRACE2_EVENT, written to a file under `root`): for tests that hold a path to "no git
 * process" or to a number of them.
 */
export async function traced<T>(root: string, fn: () => Promise<T>): Promise<Traced<T>> {
  const file = join(root, `trace-${Math.random()}`);
  const before = process.env.GIT_TRACE2_EVENT;
  process.env.GIT_TRACE2_EVENT = file;
  try {
    const result = await fn();
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      /* no git command at all */
    }
    const events = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { event: string; argv?: string[]; name?: string });
    return {
      result,
      argvs: events.filter((e) => e.event === 'start').map((e) => e.argv!),
      commands: events.filter((e) => e.event === 'cmd_name').map((e) => e.name!),
    };
  } finally {
    if (before === undefined) delete process.env.GIT_TRACE2_EVENT;
    else process.env.GIT_TRACE2_EVENT = before;
  }
}
