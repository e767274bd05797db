import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { GastownError } from '../../errors.js';
import type { ForgePort } from '../../forge/forge-port.js';
import type { PolecatAgent } from '../../polecat/agents/agent.js';
import { agentFromSettings } from '../../polecat/runner/agent-from-settings.js';
import { createProgressBoard } from '../../polecat/runner/progress-board.js';
import { failedWork, runRunner } from '../../polecat/runner/run-runner.js';
import { requireSandbox, SANDBOX_CHOICES, type SandboxChoice } from '../../polecat/sandbox/detect-sandbox.js';
import { createNoSandbox } from '../../polecat/sandbox/no-sandbox.js';
import type { Rig } from '../../rig/rig.js';
import { withRig, type CliContext } from '../cli-context.js';
import { intInRange } from '../options.js';
import { emit, wantsJson } from '../output.js';
import { withStopSignal } from '../stop-signal.js';
import { checkBeadId } from '../../town/ids.js';

interface RunnerFlags {
  concurrency?: number;
  once?: boolean;
  bead?: string;
  untilIdle?: boolean;
  dispatch: boolean;
  refinery?: boolean;
  forge: 'auto' | 'local' | 'github';
  draft?: boolean;
  agent?: 'script' | 'command' | 'builtin';
  agentCommand?: string;
  id?: string;
  /** false with --no-sandbox. */
  sandbox: SandboxChoice | false;
  syncMs?: number;
}

/**
 * A GitHub forge when the environment is a GitHub Actions job (GITHUB_TOKEN and
 * GITHUB_REPOSITORY: the workflow's own least-privilege token, at GITHUB_API_URL); otherwise none.
 */
async function forgeFor(
  kind: RunnerFlags['forge'],
  env: NodeJS.ProcessEnv,
  rig: Rig,
): Promise<{ forge: ForgePort | null; scriptGuard?: (script: PolecatAgent) => PolecatAgent }> {
  const token = env.GITHUB_TOKEN?.trim();
  const repository = env.GITHUB_REPOSITORY?.trim();
  if (kind === 'local' || (kind === 'auto' && !(token && repository))) return { forge: null };
  const { githubForgeFromEnv } = await import('../../forge/github-forge-from-env.js');
  // On GitHub: a note on pull requests opened without the app's token, and the script agent
  // only for vouched-for blocks.
  const { forGitHubPolecat } = await import('../../forge/github-polecat.js');
  return forGitHubPolecat({ forge: githubForgeFromEnv(env), rig, env });
}

/**
 * `draftPullRequests: true` at the top level of `.github/gastown.yml` in the checkout (the
 * repository's own config, as the app reads it). A line match is enough for one boolean and
 * keeps a YAML parser out of the runner.
 */
export function draftFromRepoConfig(repoDir: string): boolean {
  try {
    return /^draftPullRequests:\s*(true|yes|on)\s*(#.*)?$/m.test(readFileSync(join(repoDir, '.github', 'gastown.yml'), 'utf8'));
  } catch {
    return false;
  }
}

export function registerRunner(program: Command, ctx: CliContext): void {
  program
    .command('runner')
    .description('run polecats: claim hooked beads, work them in sandboxed workspaces, push, open PRs or merge locally')
    .option('-c, --concurrency <n>', "beads worked at once (default: the rig's concurrency)", intInRange(1, 32))
    .option('--once', 'work one bead, then exit')
    .option('--bead <id>', 'work only this bead')
    .option('--until-idle', 'exit when nothing is ready, hooked, running or queued')
    .option('--no-dispatch', 'only claim beads already on hooks; do not sling ready ones')
    .option('--refinery', 'run the local Refinery here even with a forge')
    .option('--no-refinery', 'never run the local Refinery here')
    .option('--forge <kind>', 'auto (GitHub inside Actions), local or github', 'auto')
    .option('--draft', 'open pull requests as drafts (default: draftPullRequests in .github/gastown.yml)')
    .option('--agent <kind>', "script, command or builtin (default: the rig's setting)")
    .option('--agent-command <cmd>', 'command for --agent command, e.g. "claude -p"')
    .option('--id <name>', 'runner id recorded with each claim (default host-pid)')
    .option('--sandbox <kind>', 'auto (bubblewrap, else the user sandbox when run as root), bwrap or user', 'auto')
    .option(
      '--sync-ms <ms>',
      "how often to sync the ledger with the remote while polecats work; 0: never (default: the rig's syncMs)",
      intInRange(0, 3_600_000),
    )
    .option(
      '--no-sandbox',
      "run agents without the bubblewrap sandbox (they can then reach this machine, the rig and the runner's secrets)",
    )
    .action(async (o: RunnerFlags, cmd: Command) => {
      const json = wantsJson(cmd);
      if (o.bead !== undefined) checkBeadId(o.bead);
      if (!['auto', 'local', 'github'].includes(o.forge))
        throw new GastownError('gastown_bad_input', `--forge must be auto, local or github (got ${o.forge})`);
      if (o.sandbox !== false && !SANDBOX_CHOICES.includes(o.sandbox))
        throw new GastownError('gastown_bad_input', `--sandbox must be auto, bwrap or user (got ${o.sandbox})`);
      const sandbox = o.sandbox === false ? createNoSandbox() : await requireSandbox(ctx.env, o.sandbox);
      // The fallback is weaker than bubblewrap: say so, with what it leaves open, every time it is used.
      if (sandbox.isFallback) ctx.stderr.write(`note: ${sandbox.describe}\n`);
      if (o.sandbox === false)
        ctx.stderr.write(
          "warning: --no-sandbox: agents run unsandboxed, with this machine's files, the rig, the remote, the network and the runner's /proc in their reach\n",
        );
      await withStopSignal(async (signal) => {
        const summary = await withRig(ctx, async (rig) => {
          const agent = {
            ...rig.settings.agent,
            ...(o.agent ? { kind: o.agent } : {}),
            ...(o.agentCommand ? { command: o.agentCommand } : {}),
          };
          const { forge, scriptGuard } = await forgeFor(o.forge, ctx.env, rig);
          return runRunner({
            rig,
            agentFactory: agentFromSettings(agent, ctx.env, { scriptGuard }),
            concurrency: o.concurrency,
            once: o.once,
            bead: o.bead,
            untilIdle: o.untilIdle,
            signal: signal,
            progress: createProgressBoard(ctx.stderr, json),
            forge,
            dispatch: o.dispatch,
            refinery: o.refinery,
            runnerId: o.id,
            syncMs: o.syncMs,
            env: ctx.env,
            sandbox,
            draft: o.draft ?? draftFromRepoConfig(rig.repoDir),
          });
        });
        emit(ctx, json, summary, () => {
          const worked = summary.outcomes.map((x) => `${x.polecat} ${x.bead} ${x.outcome}`).join('\n');
          return [
            worked || 'no beads to work',
            `merged ${summary.merged.length}, landed ${summary.landed.length}, sent back ${summary.sentBack.length}, failed ${summary.failed.length}`,
          ].join('\n');
        });
        // Exit non-zero when work failed, so a script or a CI job notices.
        const failed = failedWork(summary);
        if (failed.length) {
          const what = failed.map((b) => `${b} (${summary.failed.includes(b) ? 'failed' : 'to be retried'})`).join(', ');
          throw new GastownError('gastown_agent', `work failed: ${what}; see gt trail --bead <id>`);
        }
      });
    });
}
