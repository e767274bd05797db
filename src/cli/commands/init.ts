import type { Command } from 'commander';
import { GastownError } from '../../errors.js';
import { refPrefixProblem } from '../../ledger/ref-prefix.js';
import { Rig } from '../../rig/rig.js';
import { recordRigSettings } from '../../rig/first-use.js';
import { findGitCommonDir } from '../../rig/find-git-dir.js';
import { readRigSettings, type RigSettings } from '../../rig/rig-settings.js';
import type { CliContext } from '../cli-context.js';
import { parseBudget } from '../../town/costs.js';
import { intInRange } from '../options.js';
import { emit, wantsJson } from '../output.js';

interface InitOptions {
  remote?: string;
  prefix?: string;
  gate?: string;
  defaultBranch?: string;
  agent?: string;
  agentCommand?: string;
  agentUsage?: string;
  agentResume?: string;
  model?: string;
  concurrency?: number;
  approval?: string;
  review?: string;
  maxRevisions?: number;
  syncMs?: number;
  sandboxEnv?: string;
  sandboxNetwork?: boolean;
  sandboxReadOnly?: string;
  budget?: string;
  maxConvoyBudget?: string;
}

export function registerInit(program: Command, ctx: CliContext): void {
  program
    .command('init')
    .description('make the current git repository a rig (again: change its settings)')
    .option('--remote <url>', 'remote (URL or name) the ledger syncs with (default: origin, when the clone has one)')
    .option('--prefix <refs>', 'ref namespace of the ledger (default: ledgerPrefix of .github/gastown.yml, else refs/gastown/)')
    .option('--gate <command>', 'command the Refinery runs before merging (e.g. "npm test")')
    .option('--default-branch <name>', "branch polecats start from and the Refinery merges into (default: the remote's HEAD)")
    .option('--agent <kind>', 'how polecats work: script (fenced sh blocks of the bead), command, builtin')
    .option('--agent-command <cmd>', 'the agent CLI for --agent command (e.g. "claude -p")')
    .option(
      '--agent-resume <cmd>',
      'how --agent-command continues its last session with a new prompt (e.g. "claude -p --continue"): messages that arrive while it works become a new turn',
    )
    .option('--agent-usage <parser>', "how --agent-command's output reports its cost: claude-json (claude -p --output-format json)")
    .option('--model <name>', 'model for --agent builtin')
    .option('--concurrency <n>', 'polecats working at once', intInRange(1, 32))
    .option('--approval <mode>', 'required: planned convoys wait for `gt convoy approve`; off: they start at once')
    .option(
      '--review <mode>',
      'required: finished beads wait for `gt review <bead> --approve` before the Refinery merges; off: merged as they finish',
    )
    .option(
      '--max-revisions <n>',
      'revision rounds per bead (reviews, CI and gate failures) before a person must look (default 3)',
      intInRange(0, 20),
    )
    .option(
      '--sandbox-env <names>',
      'comma-separated variables agents get from the runner (e.g. ANTHROPIC_API_KEY for a command agent); "" for none',
    )
    .option(
      '--sync-ms <ms>',
      'how often a working runner syncs the ledger with the remote (heartbeat out; nudges, mail, stop in); 0: never (default: 30000 in GitHub Actions, else never)',
      intInRange(0, 3_600_000),
    )
    .option('--budget <amount>', 'a planned convoy\'s budget when the Mayor\'s plan names none ($5, 200k); "" for none')
    .option('--max-convoy-budget <amount>', 'the most a Mayor\'s plan may give a convoy (a plan asking more is capped); "" for no cap')
    .option('--sandbox-network', 'let agents reach the network (default: no network)')
    .option('--no-sandbox-network', 'agents get no network')
    .option('--sandbox-read-only <paths>', 'comma-separated absolute paths agents may read besides /usr and /opt (a toolchain)')
    .action(async (opts: InitOptions, cmd: Command) => {
      const changes: Partial<RigSettings> = {};
      if (opts.remote) changes.remote = opts.remote;
      if (opts.prefix !== undefined) {
        const problem = refPrefixProblem(opts.prefix);
        if (problem)
          throw new GastownError('gastown_bad_input', `bad --prefix ${JSON.stringify(opts.prefix)}: ${problem} (e.g. refs/gastown/)`);
        changes.prefix = opts.prefix;
      }
      if (opts.gate) changes.gate = opts.gate;
      if (opts.defaultBranch) changes.defaultBranch = opts.defaultBranch;
      if (opts.concurrency) changes.concurrency = opts.concurrency;
      if (opts.approval !== undefined) {
        if (opts.approval !== 'required' && opts.approval !== 'off')
          throw new GastownError('gastown_bad_input', `--approval must be required or off (got ${JSON.stringify(opts.approval)})`);
        changes.requireApproval = opts.approval === 'required';
      }
      if (opts.review !== undefined) {
        if (opts.review !== 'required' && opts.review !== 'off')
          throw new GastownError('gastown_bad_input', `--review must be required or off (got ${JSON.stringify(opts.review)})`);
        changes.review = opts.review;
      }
      if (opts.maxRevisions !== undefined) changes.maxRevisions = opts.maxRevisions;
      if (opts.budget !== undefined) changes.budget = budgetOption('--budget', opts.budget);
      if (opts.maxConvoyBudget !== undefined) changes.maxConvoyBudget = budgetOption('--max-convoy-budget', opts.maxConvoyBudget);
      if (opts.syncMs !== undefined) changes.syncMs = opts.syncMs;
      if (opts.agent || opts.agentCommand || opts.model) {
        const kind = opts.agent ?? (opts.agentCommand ? 'command' : 'builtin');
        if (kind !== 'script' && kind !== 'command' && kind !== 'builtin')
          throw new GastownError('gastown_bad_input', `--agent must be script, command or builtin (got ${JSON.stringify(kind)})`);
        if (kind === 'command' && !opts.agentCommand)
          throw new GastownError('gastown_bad_input', '--agent command needs --agent-command "<cli>"');
        if (opts.agentUsage !== undefined && opts.agentUsage !== 'claude-json')
          throw new GastownError('gastown_bad_input', `--agent-usage must be claude-json (got ${JSON.stringify(opts.agentUsage)})`);
        changes.agent = {
          kind,
          maxTurns: 40,
          tokenBudget: 400_000,
          timeoutMs: 30 * 60_000,
          ...(opts.agentCommand ? { command: opts.agentCommand } : {}),
          ...(opts.agentUsage ? { usageParser: 'claude-json' as const } : {}),
          ...(opts.agentResume ? { resumeCommand: opts.agentResume } : {}),
          ...(opts.model ? { model: opts.model } : {}),
        };
      }
      if (opts.sandboxEnv !== undefined || opts.sandboxNetwork !== undefined || opts.sandboxReadOnly !== undefined) {
        const list = (text: string) =>
          text
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean);
        const env = opts.sandboxEnv === undefined ? undefined : list(opts.sandboxEnv);
        const readOnly = opts.sandboxReadOnly === undefined ? undefined : list(opts.sandboxReadOnly);
        if (env?.some((n) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n)))
          throw new GastownError('gastown_bad_input', `--sandbox-env takes variable names (got ${JSON.stringify(opts.sandboxEnv)})`);
        if (readOnly?.some((p) => !p.startsWith('/')))
          throw new GastownError(
            'gastown_bad_input',
            `--sandbox-read-only takes absolute paths (got ${JSON.stringify(opts.sandboxReadOnly)})`,
          );
        const gitDir = findGitCommonDir(ctx.cwd);
        const was = (gitDir ? readRigSettings(gitDir)?.sandbox : null) ?? { env: [], network: false, readOnly: [] };
        changes.sandbox = { env: env ?? was.env, network: opts.sandboxNetwork ?? was.network, readOnly: readOnly ?? was.readOnly };
      }
      const settings = await recordRigSettings(ctx.cwd, changes, ctx.now());
      emit(ctx, wantsJson(cmd), settings, () =>
        [
          `rig ready: ledger at ${settings.prefix}${settings.remote ? `, syncing with ${settings.remote}` : ''}; default branch ${settings.defaultBranch}`,
          `polecats: ${settings.concurrency} at once, ${settings.agent.kind} agent${settings.agent.command ? ` (${settings.agent.command})` : ''}${settings.gate ? `; Refinery gate: ${settings.gate}` : ''}`,
          `review: ${settings.review === 'required' ? 'required before the Refinery merges (gt review)' : 'off'}; at most ${settings.maxRevisions} revision rounds per bead`,
          ...(settings.budget || settings.maxConvoyBudget
            ? [
                `convoy budgets: ${settings.budget ?? 'none'} unless the plan names one${settings.maxConvoyBudget ? `, at most ${settings.maxConvoyBudget}` : ''}`,
              ]
            : []),
          `sandbox: ${settings.sandbox.network ? 'network' : 'no network'}, variables ${settings.sandbox.env.join(', ') || 'none'} besides PATH and the locale${settings.sandbox.readOnly.length ? `, also read-only: ${settings.sandbox.readOnly.join(', ')}` : ''}`,
        ].join('\n'),
      );
    });
}

/** A budget option as the settings keep it (its text), checked here so a typo is one clear line; "" clears it. */
function budgetOption(flag: string, text: string): string | null {
  if (!text.trim()) return null;
  if (parseBudget(text).relative) throw new GastownError('gastown_bad_input', `${flag} takes an amount, not an increase (got ${text})`);
  return text.trim();
}
