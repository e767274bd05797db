import type { Command } from 'commander';
import { GastownError } from '../../errors.js';
import { syncRig } from '../../rig/sync-rig.js';
import { hasRemote, recordRigSettings } from '../../rig/first-use.js';
import { isRig, withRig, type CliContext } from '../cli-context.js';
import { emit, progress, wantsJson } from '../output.js';

export function registerSync(program: Command, ctx: CliContext): void {
  program
    .command('sync')
    .description("sync the ledger with the rig's remote (fetch, merge, push; never forced)")
    .option('--remote <url>', 'sync with this remote instead of the configured one')
    .option('--full', "compare every ledger ref with the remote's, whatever the writers' summaries say")
    .action(async (o: { remote?: string; full?: boolean }, cmd: Command) => {
      const json = wantsJson(cmd);
      const bar = progress(ctx, json);
      // A teammate's clone: the first sync records the rig's settings (origin, its default branch).
      if (!isRig(ctx.cwd) && (o.remote || (await hasRemote(ctx.cwd, 'origin'))))
        await recordRigSettings(ctx.cwd, o.remote && !(await hasRemote(ctx.cwd, 'origin')) ? { remote: o.remote } : {}, ctx.now());
      const result = await withRig(ctx, async (rig) => {
        const remote = o.remote ?? rig.settings.remote;
        if (!remote) throw new GastownError('gastown_config', 'no remote: run `gt init --remote <url>` or pass --remote');
        return syncRig(rig, remote, { onProgress: (l) => bar.update(l), ...(o.full ? { full: true } : {}) });
      });
      bar.done();
      // Refused refs are a warning, not a failure: everything else synced.
      for (const r of result.refused) ctx.stderr.write(`warning: not synced ${r.ref}: ${r.problem}\n`);
      emit(
        ctx,
        json,
        result,
        () => `synced: ${result.created} new, ${result.fastForwarded} fast-forwarded, ${result.merged} merged, ${result.pushed} pushed`,
      );
    });
}
