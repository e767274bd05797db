import type { Command } from 'commander';
import { addDependency, removeDependency } from '../../rig/beads.js';
import { withRig, withTown, type CliContext } from '../cli-context.js';
import { emit, table, wantsJson } from '../output.js';
import { beadLine } from './bead.js';

export function registerDep(program: Command, ctx: CliContext): void {
  const dep = program.command('dep').description('dependencies between beads (blocks edges)');
  dep
    .command('add <bead>')
    .description('make <bead> wait for another bead')
    .requiredOption('--blocked-by <bead>', 'the bead that must close first')
    .action(async (bead: string, o: { blockedBy: string }, cmd: Command) => {
      const b = await withRig(ctx, (rig) => addDependency(rig, bead, o.blockedBy));
      emit(ctx, wantsJson(cmd), b, () => `${b.id} is blocked by ${o.blockedBy}`);
    });
  dep
    .command('rm <bead>')
    .description('remove a dependency')
    .requiredOption('--blocked-by <bead>', 'the blocker to remove')
    .action(async (bead: string, o: { blockedBy: string }, cmd: Command) => {
      const b = await withRig(ctx, (rig) => removeDependency(rig, bead, o.blockedBy));
      emit(ctx, wantsJson(cmd), b, () => `${b.id} is no longer blocked by ${o.blockedBy}`);
    });

  program
    .command('ready')
    .description('open beads whose blockers are all closed')
    .action(async (_o: unknown, cmd: Command) => {
      const beads = await withTown(ctx, (town) => town.ready());
      emit(ctx, wantsJson(cmd), beads, () => (beads.length ? table(beads.map(beadLine)) : 'nothing is ready'));
    });
}
