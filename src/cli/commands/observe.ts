import type { Command } from 'commander';
import { detectSandbox } from '../../polecat/sandbox/detect-sandbox.js';
import { doctor, type DoctorCheck } from '../../rig/doctor.js';
import { parseSince, readFeed, readTrail } from '../../rig/feed.js';
import type { FeedEvent } from '../../town/types.js';
import { GastownError } from '../../errors.js';
import { withRig, withTown, type CliContext } from '../cli-context.js';
import { emit, table, wantsJson } from '../output.js';
import { statusText } from '../status-text.js';
import { isTownRoot } from '../../rig/town-workspace.js';
import { printTownStatus } from './town.js';

const feedLine = (e: FeedEvent) => `${e.at.slice(0, 19).replace('T', ' ')}  ${e.actor.padEnd(10)} ${e.type.padEnd(15)} ${e.message}`;

export function registerObserve(program: Command, ctx: CliContext): void {
  program
    .command('feed')
    .description('live activity')
    .option('--follow', 'keep printing new events')
    .option('--since <time>', 'ISO time or duration (30m, 2h, 1d)')
    .action(async (o: { follow?: boolean; since?: string }, cmd: Command) => {
      const json = wantsJson(cmd);
      const since = o.since ? parseSince(o.since, ctx.now()) : undefined;
      await withRig(ctx, async (rig) => {
        const events = await readFeed(rig, { since });
        if (!o.follow) return emit(ctx, json, events, () => (events.length ? events.map(feedLine).join('\n') : 'no events'));
        const seen = new Set<string>();
        const print = (list: FeedEvent[]) => {
          for (const e of list) {
            if (seen.has(e.id)) continue;
            seen.add(e.id);
            ctx.stdout.write(json ? `${JSON.stringify(e)}\n` : `${feedLine(e)}\n`);
          }
        };
        print(events);
        for (;;) {
          await new Promise((r) => setTimeout(r, 1000));
          print(await readFeed(rig, { since: new Date(ctx.now().getTime() - 5 * 60_000) }));
        }
      });
    });

  program
    .command('trail')
    .description('recent history of beads and convoys')
    .option('--since <time>', 'ISO time or duration (30m, 2h, 1d)')
    .option('--bead <id>', 'the history of one bead')
    .action(async (o: { since?: string; bead?: string }, cmd: Command) => {
      const since = o.since ? parseSince(o.since, ctx.now()) : undefined;
      const trail = await withRig(ctx, (rig) => readTrail(rig, { since, bead: o.bead }));
      emit(ctx, wantsJson(cmd), trail, () =>
        trail.length ? table(trail.map((t) => [t.at.slice(0, 19).replace('T', ' '), t.actor, t.status ?? '', t.summary])) : 'no history',
      );
    });

  program
    .command('status')
    .description("the rig at a glance (at a town's root: every rig)")
    .action(async (_o: unknown, cmd: Command) => {
      // Only the town's own folder: inside a rig or a crew workspace status stays the rig's.
      if (isTownRoot(ctx.cwd)) return printTownStatus(ctx, ctx.cwd, wantsJson(cmd));
      const s = await withTown(ctx, (town) => town.status());
      emit(ctx, wantsJson(cmd), s, () => statusText(s));
    });

  program
    .command('doctor')
    .description('check git, ledger integrity, stale locks, the remote and the agent sandbox')
    .option('--fix', 'remove stale locks and finish interrupted transactions')
    .option('--github', "also check GitHub's side: the default branch's protection, the polecat workflow (GITHUB_TOKEN or GH_TOKEN)")
    .option('--repo <owner/repo>', "the GitHub repository (default: GITHUB_REPOSITORY, or the rig's remote)")
    .action(async (o: { fix?: boolean; github?: boolean; repo?: string }, cmd: Command) => {
      const checks = await withRig(ctx, async (rig) => {
        const found = await doctor(rig, { fix: o.fix });
        found.push(await sandboxCheck(ctx.env));
        if (!o.github) return found;
        const { githubDoctor } = await import('../../forge/github-doctor.js');
        return [
          ...found,
          ...(await githubDoctor({
            repoDir: rig.repoDir,
            remote: rig.settings.remote ?? 'origin',
            defaultBranch: rig.settings.defaultBranch,
            env: ctx.env,
            repo: o.repo,
          })),
        ];
      });
      emit(ctx, wantsJson(cmd), checks, () =>
        checks.map((c) => `${c.ok ? (c.warn ? 'warn' : 'ok  ') : 'FAIL'}  ${c.name}: ${c.detail}`).join('\n'),
      );
      if (checks.some((c) => !c.ok)) throw new GastownError('gastown_git', 'doctor found problems', { silent: true });
    });
}

/** Whether `gt runner` can sandbox agents on this machine, and if not why and what to do. */
async function sandboxCheck(env: NodeJS.ProcessEnv): Promise<DoctorCheck> {
  const found = await detectSandbox(env);
  if (found.available && found.sandbox.isFallback)
    // The fallback: usable, but weaker than bubblewrap, and the detail says where.
    return { name: 'agent sandbox', ok: true, warn: true, detail: `fallback: ${found.detail}; gt runner runs every agent in it` };
  return found.available
    ? { name: 'agent sandbox', ok: true, detail: `available: ${found.detail}; gt runner runs every agent in it` }
    : {
        name: 'agent sandbox',
        ok: false,
        detail: `unavailable: ${found.reason}; ${found.hint} (gt runner refuses to run agents without it unless given --no-sandbox)`,
      };
}
