import type { Command } from 'commander';
import { convoyStatus, createConvoy, listConvoys } from '../../rig/convoys.js';
import { progressBar } from '../../town/convoy.js';
import { withRig, withTown, type CliContext } from '../cli-context.js';
import { emit, table, wantsJson } from '../output.js';

export function registerConvoy(program: Command, ctx: CliContext): void {
  const convoy = program.command('convoy').description('groups of beads that land together');
  convoy
    .command('create <title> <beads...>')
    .description('group beads into a convoy')
    .action(async (title: string, beads: string[], _o: unknown, cmd: Command) => {
      const c = await withRig(ctx, (rig) => createConvoy(rig, title, beads, { planner: 'manual' }));
      emit(ctx, wantsJson(cmd), c, () => `created ${c.id}: ${c.title} (${c.beads.length} beads)`);
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
        return [
          `${v.convoy.id}  ${v.convoy.title}  [${v.convoy.status}]`,
          progressBar(v.progress, 30),
          '',
          table(
            v.beads.map((b) => [
              b.status === 'closed' ? '✔' : b.status === 'failed' ? '✘' : '·',
              b.id,
              b.status,
              b.assignee ?? '-',
              b.title,
              blockedBy(b.id).length ? `after ${blockedBy(b.id).join(', ')}` : '',
            ]),
          ),
        ].join('\n');
      });
    });
}
