import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { GastownError } from '../../errors.js';
import { closeBead, createBead, listBeads, reopenBead, showBead, updateBead } from '../../rig/beads.js';
import { importBeads } from '../../rig/import-beads.js';
import type { Bead, BeadStatus } from '../../town/types.js';
import { withRig, type CliContext } from '../cli-context.js';
import { collect, commaList, intInRange } from '../options.js';
import { emit, progress, table, wantsJson } from '../output.js';

export function beadLine(b: Bead): string[] {
  return [b.id, b.status, `P${b.priority}`, b.assignee ?? '-', b.title];
}

export function registerBead(program: Command, ctx: CliContext): void {
  const bead = program.command('bead').description('create, show, list and change beads');

  bead
    .command('create <title>')
    .description('create a bead')
    .option('--body <text>', 'description')
    .option('--blocked-by <ids>', 'comma-separated bead ids that must close first', commaList)
    .option('--parent <id>', 'organisational parent bead')
    .option('--priority <0-4>', 'priority, 0 most urgent', intInRange(0, 4))
    .option('--label <label>', 'label (repeatable)', collect)
    .action(
      async (
        title: string,
        o: { body?: string; blockedBy?: string[]; parent?: string; priority?: number; label?: string[] },
        cmd: Command,
      ) => {
        const b = await withRig(ctx, (rig) =>
          createBead(rig, { title, body: o.body, blockedBy: o.blockedBy, parent: o.parent ?? null, priority: o.priority, labels: o.label }),
        );
        emit(ctx, wantsJson(cmd), b, () => `created ${b.id}: ${b.title}`);
      },
    );

  bead
    .command('show <id>')
    .description('show one bead with its blockers and dependents')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const d = await withRig(ctx, (rig) => showBead(rig, id));
      emit(ctx, wantsJson(cmd), d, () =>
        [
          `${d.bead.id}  ${d.bead.title}`,
          `status:     ${d.bead.status}${d.ready ? ' (ready)' : ''}`,
          `priority:   P${d.bead.priority}`,
          d.bead.assignee ? `polecat:    ${d.bead.assignee}` : '',
          d.bead.convoy ? `convoy:     ${d.bead.convoy}` : '',
          d.bead.labels.length ? `labels:     ${d.bead.labels.join(', ')}` : '',
          d.blockers.length ? `blocked by: ${d.blockers.map((b) => `${b.id} (${b.status})`).join(', ')}` : '',
          d.dependents.length ? `blocks:     ${d.dependents.join(', ')}` : '',
          d.bead.pr ? `pr:         ${d.bead.pr.url}` : '',
          d.bead.closeReason ? `closed:     ${d.bead.closeReason}` : '',
          d.bead.body ? `\n${d.bead.body}` : '',
        ]
          .filter(Boolean)
          .join('\n'),
      );
    });

  bead
    .command('list')
    .description('list beads')
    .option('--status <status>', 'only beads in this state')
    .option('--convoy <id>', 'only beads of this convoy')
    .action(async (o: { status?: BeadStatus; convoy?: string }, cmd: Command) => {
      const beads = await withRig(ctx, (rig) => listBeads(rig, o));
      emit(ctx, wantsJson(cmd), beads, () => (beads.length ? table(beads.map(beadLine)) : 'no beads'));
    });

  bead
    .command('update <id>')
    .description('change a bead')
    .option('--title <title>')
    .option('--body <text>')
    .option('--priority <0-4>', 'priority', intInRange(0, 4))
    .option('--label <label>', 'replace labels (repeatable)', collect)
    .option('--add-label <label>', 'add a label (repeatable)', collect)
    .option('--remove-label <label>', 'remove a label (repeatable)', collect)
    .action(
      async (
        id: string,
        o: { title?: string; body?: string; priority?: number; label?: string[]; addLabel?: string[]; removeLabel?: string[] },
        cmd: Command,
      ) => {
        const patch = {
          title: o.title,
          body: o.body,
          priority: o.priority,
          labels: o.label,
          addLabels: o.addLabel,
          removeLabels: o.removeLabel,
        };
        if (Object.values(patch).every((v) => v === undefined))
          throw new GastownError('gastown_bad_input', 'nothing to update: give --title, --body, --priority or a label option');
        const b = await withRig(ctx, (rig) => updateBead(rig, id, patch));
        emit(ctx, wantsJson(cmd), b, () => `updated ${b.id}`);
      },
    );

  bead
    .command('close <id>')
    .description('close a bead')
    .option('--reason <text>', 'why')
    .action(async (id: string, o: { reason?: string }, cmd: Command) => {
      const b = await withRig(ctx, (rig) => closeBead(rig, id, o.reason));
      emit(ctx, wantsJson(cmd), b, () => `closed ${b.id}`);
    });

  bead
    .command('reopen <id>')
    .description('open a closed or failed bead again')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const b = await withRig(ctx, (rig) => reopenBead(rig, id));
      emit(ctx, wantsJson(cmd), b, () => `reopened ${b.id}`);
    });

  bead
    .command('import <file>')
    .description('create many beads in one transaction from JSON Lines ("-" reads stdin)')
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const text = file === '-' ? await readAll(ctx.stdin) : readInput(file);
      const json = wantsJson(cmd);
      const bar = progress(ctx, json);
      const result = await withRig(ctx, (rig) =>
        importBeads(rig, text, (done, total) => bar.update(done ? `imported ${done}/${total}` : `writing ${total} beads`)),
      );
      bar.done();
      emit(ctx, json, result.ids, () => `imported ${result.beads.length} beads`);
    });
}

function readInput(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new GastownError('gastown_bad_input', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
