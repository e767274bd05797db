import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { GastownError } from '../../errors.js';
import { hooks, unsling } from '../../rig/sling.js';
import { withRig, withTown, type CliContext } from '../cli-context.js';
import { emit, table, wantsJson } from '../output.js';
import { budgetText } from '../../town/costs.js';
import { looksLikeBeadId } from '../../town/ids.js';

export function registerSling(program: Command, ctx: CliContext): void {
  program
    .command('sling [target] [polecat]')
    .description('put a ready bead on a polecat\'s hook, or give the Mayor a goal to plan ("gt sling \"Add a parser\"")')
    .option('--goal-file <file>', 'plan the goal in this Markdown file (a checklist of "- [ ] task" lines without a model)')
    .option('--title <title>', 'convoy title for a goal (default: its first line)')
    .option('--checklist', 'plan with the checklist planner even when ANTHROPIC_API_KEY is set')
    .action(
      async (
        target: string | undefined,
        polecat: string | undefined,
        o: { goalFile?: string; title?: string; checklist?: boolean },
        cmd: Command,
      ) => {
        const json = wantsJson(cmd);
        if (target && looksLikeBeadId(target) && !o.goalFile) {
          const r = await withTown(ctx, (town, rig) => town.sling(target, polecat, rig.actor));
          return emit(ctx, json, r, () => `${r.bead.id} slung to ${r.polecat}${r.newPolecat ? ' (new polecat)' : ''}`);
        }
        if (polecat)
          throw new GastownError('gastown_bad_input', 'a goal is planned by the Mayor: name no polecat (quote the goal if it has spaces)');
        const goal = o.goalFile ? readGoalFile(ctx.cwd, o.goalFile) : target;
        if (!goal?.trim()) throw new GastownError('gastown_bad_input', 'give a bead id, a goal in quotes, or --goal-file <file.md>');
        // Loaded only for goals: the Mayor and the Anthropic SDK would slow every other command.
        const { anthropicFromEnv, goalPlanner } = await import('../lazy.js');
        const model = o.checklist ? null : anthropicFromEnv(ctx.env);
        // Without a model a plain one-line goal has no checklist to plan from: it becomes one task.
        const text = !model && !/^\s*[-*+]\s+\[[ xX]\]\s+\S/m.test(goal) && !goal.trim().includes('\n') ? `- [ ] ${goal.trim()}` : goal;
        const r = await withTown(ctx, (town, rig) =>
          town.planGoal(
            { goal: text, title: o.title ?? (text === goal ? undefined : goal.trim()), plan: goalPlanner({ model }) },
            rig.actor,
          ),
        );
        emit(ctx, json, r, () =>
          [
            `the Mayor planned ${r.convoy.id} "${r.convoy.title}" (${r.planner} planner): ${r.beads.length} beads${r.convoy.status === 'awaiting_approval' ? ', awaiting approval' : ''}`,
            ...r.beads.map((b) => `  ${b.id}  ${b.title}${b.blockedBy.length ? `  (after ${b.blockedBy.join(', ')})` : ''}`),
            r.convoy.budget
              ? `budget: ${budgetText(r.convoy.budget)}${r.convoy.budgetNote ? ` (clamped: ${r.convoy.budgetNote})` : ''}`
              : '',
            r.convoy.status === 'awaiting_approval' ? '' : 'run `gt runner` to work it',
          ]
            .filter(Boolean)
            .join('\n'),
        );
      },
    );
  program
    .command('unsling <bead>')
    .description("take a bead off its polecat's hook")
    .action(async (bead: string, _o: unknown, cmd: Command) => {
      const b = await withRig(ctx, (rig) => unsling(rig, bead));
      emit(ctx, wantsJson(cmd), b, () => `${b.id} is open again`);
    });
  program
    .command('hook [polecat]')
    .description("what is on a polecat's hook (every polecat's when none is named)")
    .action(async (polecat: string | undefined, _o: unknown, cmd: Command) => {
      const list = await withRig(ctx, (rig) => hooks(rig, polecat));
      emit(ctx, wantsJson(cmd), polecat ? list[0] : list, () =>
        list.length
          ? table(list.map((h) => [h.agent, h.bead ? `${h.bead.id} ${h.bead.status}` : '(empty)', h.bead?.title ?? '']))
          : 'no polecats yet',
      );
    });
}

function readGoalFile(cwd: string, file: string): string {
  try {
    return readFileSync(resolve(cwd, file), 'utf8');
  } catch (err) {
    throw new GastownError('gastown_bad_input', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
