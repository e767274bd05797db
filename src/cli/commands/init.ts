import type { Command } from 'commander';
import { Rig } from '../../rig/rig.js';
import type { CliContext } from '../cli-context.js';
import { emit } from '../output.js';

export function registerInit(program: Command, ctx: CliContext): void {
  program
    .command('init')
    .description('make the current git repository a rig')
    .option('--remote <url>', 'remote (URL or name) the ledger syncs with')
    .option('--prefix <refs>', 'ref namespace of the ledger (default refs/gastown/)')
    .option('--gate <command>', 'command the Refinery runs before merging (e.g. "npm test")')
    .option('--default-branch <name>', 'branch polecats start from and the Refinery merges into')
    .action((opts: { remote?: string; prefix?: string; gate?: string; defaultBranch?: string }, cmd: Command) => {
      const changes: Record<string, unknown> = {};
      if (opts.remote) changes.remote = opts.remote;
      if (opts.prefix) changes.prefix = opts.prefix;
      if (opts.gate) changes.gate = opts.gate;
      if (opts.defaultBranch) changes.defaultBranch = opts.defaultBranch;
      const settings = Rig.init(ctx.cwd, changes, ctx.now());
      emit(ctx, cmd.optsWithGlobals().json, settings, () => `rig ready: ledger at ${settings.prefix}${settings.remote ? `, syncing with ${settings.remote}` : ''}`);
    });
}
