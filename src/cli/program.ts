import { Command, CommanderError } from 'commander';
import { isGastownError } from '../errors.js';
import { VERSION } from '../version.js';
import type { CliContext } from './cli-context.js';

/** A command group: registers its commands on the program. */
export type CommandGroup = (program: Command, ctx: CliContext) => void;

/**
 * The `gt` program with the given command groups: global options, one-line errors, and
 * subcommands that inherit both. Imports no command group itself, so an entry that needs
 * only one (sync-entry.ts) bundles only that one.
 */
export function programWith(ctx: CliContext, groups: CommandGroup[]): Command {
  const program = new Command('gt')
    .description('Gas Town: many coding agents on one codebase, with git refs holding all state')
    .version(VERSION)
    .option('--json', 'machine-readable output on stdout')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
      // Commander's own errors (unknown option, missing argument) become one line.
      outputError: (s, write) =>
        write(
          `gt: ${
            s
              .replace(/^error: /, '')
              .trim()
              .split('\n')[0]
          }\n`,
        ),
    });
  for (const register of groups) register(program, ctx);
  // Subcommands inherit exit and output behaviour.
  const configure = (cmd: Command) => {
    for (const sub of cmd.commands) {
      sub.exitOverride().configureOutput(program.configureOutput());
      configure(sub);
    }
  };
  configure(program);
  return program;
}

/**
 * The CLI's one error boundary: a coded error becomes one line on stderr and a non-zero
 * exit code (2 for bad input or usage, 1 for everything else). Returns the exit code.
 */
export async function runProgram(argv: string[], ctx: CliContext, program: Command): Promise<number> {
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    if (isGastownError(err)) {
      if (!err.details?.silent) ctx.stderr.write(`gt: ${err.message}\n`);
      return err.code === 'gastown_bad_input' ? 2 : 1;
    }
    const e = err as Error;
    ctx.stderr.write(`gt: unexpected error: ${e?.message ?? String(err)}\n`);
    if (ctx.env.GT_DEBUG) ctx.stderr.write(`${e?.stack ?? ''}\n`);
    return 1;
  }
}
