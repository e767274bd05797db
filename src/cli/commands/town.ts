import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { GastownError } from '../../errors.js';
import { addCrew, listCrew } from '../../rig/crew.js';
import { addRig, listRigs, removeRig, townStatus, type TownRigStatus } from '../../rig/town-rigs.js';
import { defaultTownDir, initTown, mustFindTown, rigAround, rigNames } from '../../rig/town-workspace.js';
import { actorOf, type CliContext } from '../cli-context.js';
import { emit, progress, table, wantsJson } from '../output.js';

const home = (ctx: CliContext) => ctx.env.HOME || homedir();
const townOf = (ctx: CliContext) => mustFindTown(ctx.cwd, ctx.env, home(ctx));

/** `gt town`, `gt rig` and `gt crew`: the town workspace (see rig/town-workspace.ts). */
export function registerTown(program: Command, ctx: CliContext): void {
  const town = program.command('town').description('the town: a folder holding rigs and their shared state');
  town
    .command('init [dir]')
    .description('make a town folder (default ~/gt, or GT_TOWN)')
    .action(async (dir: string | undefined, _o: unknown, cmd: Command) => {
      const t = initTown(dir ? resolve(ctx.cwd, dir) : defaultTownDir(ctx.env, home(ctx)), ctx.now());
      emit(ctx, wantsJson(cmd), t, () =>
        t.created ? `town ready at ${t.dir}: add a project with \`gt rig add <name> <git-url>\`` : `${t.dir} is a town already`,
      );
    });

  const rig = program.command('rig').description("the town's rigs (projects)");
  rig
    .command('add <name> <url>')
    .description("bring a project into the town: a shared bare clone, the remote's ledger joined, the rig's settings")
    .option('--gate <command>', 'command the Refinery runs before merging')
    .option('--default-branch <name>', "branch polecats start from (default: the remote's HEAD)")
    .action(async (name: string, url: string, o: { gate?: string; defaultBranch?: string }, cmd: Command) => {
      const json = wantsJson(cmd);
      const bar = progress(ctx, json);
      const r = await addRig(townOf(ctx), name, url, {
        changes: { ...(o.gate ? { gate: o.gate } : {}), ...(o.defaultBranch ? { defaultBranch: o.defaultBranch } : {}) },
        now: ctx.now(),
        actor: actorOf(ctx),
        onProgress: (l) => bar.update(l),
      });
      bar.done();
      emit(ctx, json, r, () =>
        [
          `${r.created ? 'added' : 'synced'} rig ${r.name} (default branch ${r.settings.defaultBranch})`,
          r.joinedRefs ? `joined its ledger (${r.joinedRefs} refs)` : 'its remote had no ledger yet: a new one starts here',
          `next: \`gt crew add <you> --rig ${r.name}\``,
        ].join('\n'),
      );
    });
  rig
    .command('list')
    .description("the town's rigs")
    .action(async (_o: unknown, cmd: Command) => {
      const rigs = await listRigs(townOf(ctx));
      emit(ctx, wantsJson(cmd), rigs, () =>
        rigs.length
          ? table(rigs.map((r) => [r.name, r.url ?? '(no remote)', r.crew.map((c) => c.name).join(', ') || 'no crew']))
          : 'no rigs yet: `gt rig add <name> <git-url>`',
      );
    });
  rig
    .command('remove <name>')
    .description('take a rig out of the town (its ledger is pushed first; refused while a crew has unpushed work)')
    .option('--force', 'remove even with unpushed work or an unreachable remote')
    .action(async (name: string, o: { force?: boolean }, cmd: Command) => {
      const r = await removeRig(townOf(ctx), name, { force: o.force, now: ctx.now(), actor: actorOf(ctx) });
      emit(ctx, wantsJson(cmd), r, () => `removed rig ${r.name}${r.synced ? ' (ledger pushed first)' : ''}`);
    });

  const crew = program.command('crew').description("people's own workspaces in a rig");
  crew
    .command('add <name>')
    .description('a workspace of your own (a worktree on crew/<name>) where gt commands act as you')
    .option('--rig <rig>', 'the rig (default: the one around you, or the only one)')
    .action(async (name: string, o: { rig?: string }, cmd: Command) => {
      const t = townOf(ctx);
      const c = await addCrew(t, pickRig(t, ctx.cwd, o.rig), name);
      emit(
        ctx,
        wantsJson(cmd),
        c,
        () => `${c.created ? 'made' : 'found'} ${c.name}'s workspace at ${c.dir} on ${c.branch}: gt commands there act as ${c.name}`,
      );
    });
  crew
    .command('list')
    .description('the crew of a rig')
    .option('--rig <rig>', 'the rig (default: the one around you, or the only one)')
    .action(async (o: { rig?: string }, cmd: Command) => {
      const t = townOf(ctx);
      const list = listCrew(t, pickRig(t, ctx.cwd, o.rig));
      emit(ctx, wantsJson(cmd), list, () => (list.length ? table(list.map((c) => [c.name, c.branch, c.dir])) : 'no crew yet'));
    });
}

function pickRig(town: string, cwd: string, named: string | undefined): string {
  if (named) return named;
  const around = rigAround(town, cwd);
  if (around) return around;
  const all = rigNames(town);
  if (all.length === 1) return all[0]!;
  throw new GastownError(
    'gastown_bad_input',
    all.length ? `which rig? --rig ${all.join(' | ')}` : 'no rigs yet: `gt rig add <name> <git-url>`',
  );
}

/** `gt status` at a town's root: one block per rig. */
export async function printTownStatus(ctx: CliContext, town: string, json: boolean): Promise<void> {
  const rigs = await townStatus(town, { now: ctx.now, actor: actorOf(ctx) });
  emit(ctx, json, { town, rigs }, () => (rigs.length ? rigs.map(rigBlock).join('\n\n') : `town ${town}: no rigs yet`));
}

function rigBlock(r: TownRigStatus): string {
  if (!r.status) return `${r.name}: cannot read (${r.error})`;
  const b = r.status.beads;
  const active = r.status.convoys.filter((c) => c.convoy.status !== 'landed');
  return [
    `${r.name}  ${r.url ?? '(no remote)'}`,
    `  beads: ${b.total} total, ${b.ready} ready, ${b.hooked + b.in_progress} working, ${b.in_review} in review, ${b.closed} closed, ${b.failed} failed`,
    `  convoys: ${r.status.convoys.length} (${active.length} not landed)${active.length ? `: ${active.map((c) => `${c.convoy.id} ${c.progress.closed}/${c.progress.total}`).join(', ')}` : ''}`,
    `  polecats: ${r.status.polecats.length}; crew: ${r.crew.join(', ') || 'none'}`,
  ].join('\n');
}
