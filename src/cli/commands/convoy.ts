import type { Command } from 'commander';
import { convoyStatus, createConvoy, listConvoys } from '../../rig/convoys.js';
import { GastownError } from '../../errors.js';
import { progressBar } from '../../town/convoy.js';
import { beadsSpent, budgetText, parseBudget, spentText } from '../../town/costs.js';
import { withRig, withTown, type CliContext } from '../cli-context.js';
import { emit, table, wantsJson } from '../output.js';

export function registerConvoy(program: Command, ctx: CliContext): void {
  const convoy = program.command('convoy').description('groups of beads that land together');
  convoy
    .command('create <title> <beads...>')
    .description('group beads into a convoy')
    .option('--budget <amount>', 'what its agents may spend: dollars ($5) or tokens (200k); the runner stops them past it')
    .action(async (title: string, beads: string[], o: { budget?: string }, cmd: Command) => {
      const budget = o.budget === undefined ? null : parseBudget(o.budget);
      if (budget?.relative) throw new GastownError('gastown_bad_input', `--budget takes an amount, not an increase (got ${o.budget})`);
      const c = await withRig(ctx, (rig) => createConvoy(rig, title, beads, { planner: 'manual', budget: budget?.budget ?? null }));
      emit(
        ctx,
        wantsJson(cmd),
        c,
        () => `created ${c.id}: ${c.title} (${c.beads.length} beads${c.budget ? `, budget ${budgetText(c.budget)}` : ''})`,
      );
    });
  convoy
    .command('budget <id> <amount>')
    .description("set ($20) or raise (+$5, +100k) a convoy's budget; beads paused for it resume")
    .action(async (id: string, amount: string, _o: unknown, cmd: Command) => {
      const r = await withTown(ctx, (town, rig) => town.budget(id, amount, rig.actor));
      emit(
        ctx,
        wantsJson(cmd),
        r,
        () =>
          `${r.convoy.id} budget ${budgetText(r.convoy.budget)}; spent ${spentText(r.spent, r.convoy.budget)}${r.resumed.length ? `; resumed ${r.resumed.join(', ')}` : ''}`,
      );
    });
  convoy
    .command('list')
    .description('list convoys')
    .action(async (_o: unknown, cmd: Command) => {
      const list = await withRig(ctx, (rig) => listConvoys(rig));
      emit(ctx, wantsJson(cmd), list, () =>
        list.length ? table(list.map(({ convoy: c, progress: p }) => [c.id, c.status, `${p.closed}/${p.total}`, c.title])) : 'no convoys',
      );
    });
  convoy
    .command('approve <id>')
    .description('approve a plan awaiting approval; its ready beads are slung')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const r = await withTown(ctx, async (town, rig) => {
        const approved = await town.approve(id, rig.actor);
        return { ...approved, slung: await town.dispatchReady('mayor') };
      });
      emit(
        ctx,
        wantsJson(cmd),
        r,
        () =>
          `approved ${r.convoy.id}: ${r.convoy.title}${r.slung.length ? `; slung ${r.slung.map((s) => `${s.bead.id} to ${s.polecat}`).join(', ')}` : ''}`,
      );
    });
  convoy
    .command('stop <id>')
    .description('stop a convoy: nothing more is slung, work in flight is taken back')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const r = await withTown(ctx, (town, rig) => town.stop(id, rig.actor));
      emit(ctx, wantsJson(cmd), r, () => `stopped ${r.convoy.id}${r.unslung.length ? `; took back ${r.unslung.join(', ')}` : ''}`);
    });
  convoy
    .command('status <id>')
    .description('progress of a convoy: beads, states and dependencies')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const v = await withRig(ctx, (rig) => convoyStatus(rig, id));
      emit(ctx, wantsJson(cmd), v, () => {
        const blockedBy = (b: string) => v.edges.filter((e) => e.to === b).map((e) => e.from);
        const spent = beadsSpent(v.beads);
        const paused = v.beads.filter((b) => b.paused).map((b) => b.id);
        return [
          `${v.convoy.id}  ${v.convoy.title}  [${v.convoy.status}]`,
          progressBar(v.progress, 30),
          `spent: ${spentText(spent, v.convoy.budget)}${v.convoy.budget ? '' : ' (no budget)'}${paused.length ? `; paused for budget: ${paused.join(', ')}` : ''}`,
          '',
          table(
            v.beads.map((b) => [
              b.status === 'closed' ? '✔' : b.status === 'failed' ? '✘' : '·',
              b.id,
              b.paused ? `${b.status} (paused: ${b.paused})` : b.status,
              b.assignee ?? '-',
              b.title,
              blockedBy(b.id).length ? `after ${blockedBy(b.id).join(', ')}` : '',
            ]),
          ),
        ].join('\n');
      });
    });
}
