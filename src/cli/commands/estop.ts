import type { Command } from 'commander';
import { withTown, type CliContext } from '../cli-context.js';
import { emit, wantsJson } from '../output.js';

/**
 * `gt estop`: the emergency stop. Every runner stops its agent at the next checkpoint (work
 * pushed) and exits, nothing new is slung or dispatched; `--release` resumes. Anyone who can
 * write the rig's ledger can press it, as anyone who can push can stop a convoy.
 */
export function registerEstop(program: Command, ctx: CliContext): void {
  program
    .command('estop')
    .description('emergency stop: every runner stops at its next checkpoint, nothing is slung (--release resumes)')
    .option('--release', 'release the emergency stop: work resumes')
    .action(async (o: { release?: boolean }, cmd: Command) => {
      const engage = !o.release;
      const r = await withTown(ctx, (town, rig) => town.estop(engage, rig.actor));
      emit(ctx, wantsJson(cmd), r, () =>
        engage
          ? `${r.changed ? 'emergency stop engaged' : `emergency stop already engaged (by ${r.by} at ${r.at})`}: runners stop at their next checkpoint, nothing is slung; gt estop --release resumes`
          : r.changed
            ? 'emergency stop released: work resumes'
            : 'the emergency stop was not engaged',
      );
    });
}
