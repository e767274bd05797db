import type { Command } from 'commander';
import { runDeacon } from '../../deacon/run-deacon.js';
import type { DeaconPassResult } from '../../rig/deacon-pass.js';
import { withRig, type CliContext } from '../cli-context.js';
import { emit, wantsJson } from '../output.js';
import { withStopSignal } from '../stop-signal.js';

export function registerDeacon(program: Command, ctx: CliContext): void {
  program
    .command('deacon')
    .description('the watchdog: make beads of silent polecats claimable again, tell the mayor about repeat stalls')
    .option('--once', 'one pass, then exit')
    .action(async (o: { once?: boolean }, cmd: Command) => {
      const json = wantsJson(cmd);
      const total: DeaconPassResult = { stalled: [], escalated: [] };
      await withStopSignal(async (signal) => {
        await withRig(
          ctx,
          (rig) =>
            runDeacon(rig, {
              once: o.once,
              signal,
              onPass: (r) => {
                total.stalled.push(...r.stalled);
                total.escalated.push(...r.escalated);
                if (!o.once && !json) for (const id of r.stalled) ctx.stderr.write(`deacon: ${id} stalled; claimable again\n`);
              },
            }),
          { actor: 'deacon' },
        );
        emit(
          ctx,
          json,
          total,
          () =>
            `stalled ${total.stalled.length}${total.stalled.length ? ` (${total.stalled.join(', ')})` : ''}, escalated ${total.escalated.length}`,
        );
      });
    });
}
