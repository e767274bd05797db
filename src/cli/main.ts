import type { Command } from 'commander';
import { processContext, type CliContext } from './cli-context.js';
import { registerBead } from './commands/bead.js';
import { registerConvoy } from './commands/convoy.js';
import { registerCosts } from './commands/costs.js';
import { registerDep } from './commands/dep.js';
import { registerEstop } from './commands/estop.js';
import { registerInit } from './commands/init.js';
import { registerMail } from './commands/mail.js';
import { registerObserve } from './commands/observe.js';
import { registerReview } from './commands/review.js';
import { registerSling } from './commands/sling.js';
import { registerSync } from './commands/sync.js';
import { registerTown } from './commands/town.js';
import { programWith, runProgram, type CommandGroup } from './program.js';

/** Extra command groups (runner, demo, refinery...) register through this list. */
export type { CommandGroup } from './program.js';

export function buildProgram(ctx: CliContext, extra: CommandGroup[] = []): Command {
  return programWith(ctx, [
    registerInit,
    registerBead,
    registerDep,
    registerConvoy,
    registerCosts,
    registerEstop,
    registerSling,
    registerMail,
    registerReview,
    registerObserve,
    registerSync,
    registerTown,
    ...extra,
  ]);
}

/**
 * The CLI's one error boundary: a coded error becomes one line on stderr and a non-zero
 * exit code (2 for bad input or usage, 1 for everything else). Returns the exit code.
 */
export async function runCli(argv: string[], ctx: CliContext = processContext(), extra: CommandGroup[] = []): Promise<number> {
  return runProgram(argv, ctx, buildProgram(ctx, extra));
}
