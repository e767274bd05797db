import { createInterface } from 'node:readline';

/**
 * Lines from the terminal or a pipe, one at a time, on demand: the lines a script writes
 * ahead are kept in order until asked for (a prompt's answer is simply the next line).
 */
export interface LineReader {
  /** The next line, or null once the input has ended. */
  next(prompt: string): Promise<string | null>;
  close(): void;
}

export function lineReader(input: NodeJS.ReadableStream, output: NodeJS.WritableStream & { isTTY?: boolean }): LineReader {
  const rl = createInterface({ input, terminal: false, crlfDelay: Number.POSITIVE_INFINITY });
  const queued: string[] = [];
  const waiting: ((line: string | null) => void)[] = [];
  let ended = false;
  rl.on('line', (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else queued.push(line);
  });
  rl.on('close', () => {
    ended = true;
    for (const w of waiting.splice(0)) w(null);
  });
  return {
    async next(prompt) {
      output.write(prompt);
      const line = queued.length ? queued.shift()! : ended ? null : await new Promise<string | null>((resolve) => waiting.push(resolve));
      // A terminal echoes what was typed; on a pipe the transcript shows it after its prompt.
      if (!output.isTTY) output.write(line === null ? '\n' : `${line}\n`);
      return line;
    },
    close() {
      rl.close();
    },
  };
}
