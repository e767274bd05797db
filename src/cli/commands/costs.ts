import type { Command } from 'commander';
import { GastownError } from '../../errors.js';
import type { CostsBy } from '../../rig/town-service.js';
import { formatUsd, spentText, totalTokens } from '../../town/costs.js';
import { withTown, type CliContext } from '../cli-context.js';
import { emit, table, wantsJson } from '../output.js';

const BY = ['polecat', 'bead', 'day', 'convoy'] as const;

/** `gt costs`: what the agents' runs spent, from the usage each run recorded on its bead. */
export function registerCosts(program: Command, ctx: CliContext): void {
  program
    .command('costs')
    .description('what agent runs spent (tokens and estimated dollars), recorded on each bead by its runner')
    .option('--convoy <id>', 'only this convoy (its budget is shown)')
    .option('--by <what>', `group by ${BY.join(', ')} (default: convoy, or bead with --convoy)`)
    .action(async (o: { convoy?: string; by?: string }, cmd: Command) => {
      if (o.by !== undefined && !(BY as readonly string[]).includes(o.by))
        throw new GastownError('gastown_bad_input', `--by must be one of ${BY.join(', ')} (got ${o.by})`);
      const report = await withTown(ctx, (town) => town.costs({ convoy: o.convoy, by: o.by as CostsBy | undefined }));
      emit(ctx, wantsJson(cmd), report, () => {
        const row = (key: string, r: (typeof report.rows)[number]) => [
          key,
          `$${formatUsd(r.usage.costUsd)}`,
          `${totalTokens(r.usage)} tokens`,
          `in ${r.usage.inputTokens} out ${r.usage.outputTokens} cache r/w ${r.usage.cacheReadTokens}/${r.usage.cacheWriteTokens}`,
          `${r.runs} run${r.runs === 1 ? '' : 's'}${r.unknownRuns ? ` (${r.unknownRuns} unknown)` : ''}`,
        ];
        const lines = report.rows.length
          ? [table([...report.rows.map((r) => row(r.key, r)), row('total', report.total)])]
          : ['no agent runs recorded'];
        const spent = { usage: report.total.usage, runs: report.total.runs, unknownRuns: report.total.unknownRuns };
        if (report.convoy) lines.push(`${report.convoy}: spent ${spentText(spent, report.budget)}${report.budget ? '' : ' (no budget)'}`);
        if (report.planning.costUsd || report.planning.inputTokens)
          lines.push(
            `planning (the Mayor): $${formatUsd(report.planning.costUsd)} (${totalTokens(report.planning)} tokens), not counted above`,
          );
        return lines.join('\n');
      });
    });
}
