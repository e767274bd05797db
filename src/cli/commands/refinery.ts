import type { Command } from 'commander';
import { createNoSandbox } from '../../polecat/sandbox/no-sandbox.js';
import { runRefinery } from '../../refinery/run-refinery.js';
import { withRig, type CliContext } from '../cli-context.js';
import { emit, wantsJson } from '../output.js';
import { withStopSignal } from '../stop-signal.js';

export function registerRefinery(program: Command, ctx: CliContext): void {
  const refinery = program.command('refinery').description('the local merge queue (rigs without a forge)');
  refinery
    .command('run')
    .description('rebase queued polecat branches, run the gate, fast-forward the default branch and push it')
    .option('--once', 'one pass over the queue, then exit')
    .option('--no-sandbox', "run the gate (the polecats' code) without the bubblewrap sandbox")
    .action(async (o: { once?: boolean; sandbox: boolean }, cmd: Command) => {
      const json = wantsJson(cmd);
      if (!o.sandbox)
        ctx.stderr.write(
          "warning: --no-sandbox: the gate runs the polecats' code unsandboxed, with this machine, the rig and the remote in its reach\n",
        );
      const sandbox = o.sandbox ? undefined : createNoSandbox();
      await withStopSignal(async (signal) => {
        const r = await withRig(
          ctx,
          (rig) =>
            runRefinery(rig, { env: ctx.env, sandbox, once: o.once, signal: signal, log: (l) => !json && ctx.stderr.write(`${l}\n`) }),
          { actor: 'refinery' },
        );
        emit(
          ctx,
          json,
          r,
          () =>
            `merged ${r.merged.length}${r.merged.length ? ` (${r.merged.join(', ')})` : ''}, sent back ${r.sentBack.length}, failed ${r.failed.length}, waiting ${r.waiting.length}${r.landed.length ? `; landed ${r.landed.join(', ')}` : ''}`,
        );
      });
    });
}
