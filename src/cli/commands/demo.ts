import type { Command } from 'commander';
import { runDemo } from '../../demo/run-demo.js';
import { GastownError } from '../../errors.js';
import { createProgressBoard } from '../../polecat/runner/progress-board.js';
import { runGitText } from '../../ledger/run-git.js';
import { withRig, type CliContext } from '../cli-context.js';
import { emit, wantsJson } from '../output.js';
import { statusText } from '../status-text.js';
import { rigStatus } from '../../rig/status.js';

export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('the local town end to end: a scratch rig, a goal of 5 beads, 3 polecats, the Refinery, a landed convoy')
    .option('--dir <path>', 'build the scratch town here (default: a new temp dir)')
    .action(async (o: { dir?: string }, cmd: Command) => {
      const json = wantsJson(cmd);
      const progress = createProgressBoard(ctx.stderr, json);
      const r = await runDemo({ dir: o.dir, env: ctx.env, progress, now: ctx.now });
      if (json) return emit(ctx, true, r, () => '');
      ctx.stdout.write(`\n$ gt status   (in ${r.rigDir})\n`);
      ctx.stdout.write(`${statusText(await withRig({ ...ctx, cwd: r.rigDir }, (rig) => rigStatus(rig)))}\n`);
      const log = (await runGitText(['log', '--oneline', 'main'], { cwd: r.rigDir })).stdout.trim();
      emit(ctx, false, r, () =>
        [
          '',
          `$ git log --oneline main`,
          log,
          '',
          `convoy ${r.convoy.id} ${r.convoy.status} in ${r.seconds.toFixed(1)} s: ${r.summary.merged.length} beads merged by the Refinery`,
          '',
          'where to look:',
          `  rig:     ${r.rigDir}        (cd there: gt status, gt feed, gt trail, gt convoy status ${r.convoy.id})`,
          `  remote:  ${r.remote}`,
          `  goal:    ${r.dir}/goal.md`,
          `  history: git -C ${r.rigDir} log --oneline main`,
        ].join('\n'),
      );
      if (r.convoy.status !== 'landed') throw new GastownError('gastown_agent', `the demo convoy did not land (${r.convoy.status})`);
    });
}
