/**
 * One line per polecat ("nux      gt-1a2b  step 2/3: npm test"). On a terminal the block of
 * lines is redrawn in place as polecats progress; elsewhere (CI logs, pipes, tests) every
 * update is its own line, so the log still tells the story.
 */
export interface ProgressBoard {
  update(polecat: string, bead: string, text: string): void;
  /** A line that stays (merged, failed...), printed above the live block. */
  note(text: string): void;
  remove(polecat: string): void;
  close(): void;
}

export function createProgressBoard(out: NodeJS.WritableStream & { isTTY?: boolean }, quiet = false): ProgressBoard {
  const tty = !!out.isTTY;
  const lines = new Map<string, string>();
  let drawn = 0;
  const clear = () => {
    if (drawn > 0) out.write(`\x1b[${drawn}A\x1b[0J`);
    drawn = 0;
  };
  const draw = () => {
    for (const line of lines.values()) out.write(`${line}\n`);
    drawn = lines.size;
  };
  const format = (polecat: string, bead: string, text: string) => `${polecat.padEnd(9)} ${bead.padEnd(9)} ${text}`;
  return {
    update(polecat, bead, text) {
      if (quiet) return;
      const line = format(polecat, bead, text);
      if (!tty) return void out.write(`${line}\n`);
      clear();
      lines.set(polecat, line.length > 120 ? `${line.slice(0, 117)}...` : line);
      draw();
    },
    note(text) {
      if (quiet) return;
      if (!tty) return void out.write(`${text}\n`);
      clear();
      out.write(`${text}\n`);
      draw();
    },
    remove(polecat) {
      if (!tty || quiet) return;
      clear();
      lines.delete(polecat);
      draw();
    },
    close() {
      if (tty && !quiet) clear();
      lines.clear();
    },
  };
}
