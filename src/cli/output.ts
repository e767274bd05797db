import type { Command } from 'commander';
import type { CliContext } from './cli-context.js';

/** The global `--json` flag, as any command (or subcommand) sees it. */
export function wantsJson(cmd: Command): boolean {
  return cmd.optsWithGlobals().json === true;
}

/** `--json` prints machine output on stdout; otherwise `text()` renders for people. */
export function emit(ctx: CliContext, json: boolean, value: unknown, text: () => string): void {
  if (json) ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else {
    const t = text();
    if (t) ctx.stdout.write(t.endsWith('\n') ? t : `${t}\n`);
  }
}

/**
 * Progress for long work: a spinner redrawn in place on a terminal, plain lines otherwise
 * (CI logs, pipes). Always on stderr, so stdout stays clean for `--json`.
 */
export function progress(ctx: CliContext, quiet = false): { update(line: string): void; done(line?: string): void } {
  const tty = !!ctx.stderr.isTTY;
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let i = 0;
  let last = '';
  let timer: NodeJS.Timeout | null = null;
  const draw = () => ctx.stderr.write(`\r\x1b[2K${frames[i++ % frames.length]} ${last}`);
  return {
    update(line) {
      if (quiet) return;
      last = line;
      if (!tty) ctx.stderr.write(`${line}\n`);
      else {
        draw();
        if (!timer) timer = setInterval(draw, 80).unref();
      }
    },
    done(line) {
      if (timer) clearInterval(timer);
      if (tty && !quiet) ctx.stderr.write('\r\x1b[2K');
      if (line && !quiet) ctx.stderr.write(`${line}\n`);
    },
  };
}

export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')).join('\n');
}
