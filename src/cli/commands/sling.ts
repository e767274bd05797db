import type { Command } from 'commander';
import { hooks, sling, unsling } from '../../rig/sling.js';
import { withRig, type CliContext } from '../cli-context.js';
import { emit, table } from '../output.js';

export function registerSling(program: Command, ctx: CliContext): void {
  program
    .command('sling <bead> [polecat]')
    .description('put a ready bead on a polecat\'s hook (a free one from the pool when none is named)')
    .action(async (bead: string, polecat: string | undefined, _o: unknown, cmd: Command) => {
      const r = await withRig(ctx, (rig) => sling(rig, bead, polecat));
      emit(ctx, cmd.optsWithGlobals().json, r, () => `${r.bead.id} slung to ${r.polecat}${r.newPolecat ? ' (new polecat)' : ''}`);
    });
  program
    .command('unsling <bead>')
    .description('take a bead off its polecat\'s hook')
    .action(async (bead: string, _o: unknown, cmd: Command) => {
      const b = await withRig(ctx, (rig) => unsling(rig, bead));
      emit(ctx, cmd.optsWithGlobals().json, b, () => `${b.id} is open again`);
    });
  program
    .command('hook [polecat]')
    .description('what is on a polecat\'s hook (every polecat\'s when none is named)')
    .action(async (polecat: string | undefined, _o: unknown, cmd: Command) => {
      const list = await withRig(ctx, (rig) => hooks(rig, polecat));
      emit(ctx, cmd.optsWithGlobals().json, polecat ? list[0] : list, () =>
        list.length ? table(list.map((h) => [h.agent, h.bead ? `${h.bead.id} ${h.bead.status}` : '(empty)', h.bead?.title ?? ''])) : 'no polecats yet',
      );
    });
}
