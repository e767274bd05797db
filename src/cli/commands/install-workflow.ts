import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { GastownError } from '../../errors.js';
import {
  actionReference,
  DEFAULT_ACTION_REF,
  DEFAULT_ACTION_REPO,
  describeExisting,
  renderWorkflow,
  WORKFLOW_PATH,
} from '../../forge/polecat-workflow.js';
import { runGitText } from '../../ledger/run-git.js';
import type { CliContext } from '../cli-context.js';
import { emit, wantsJson } from '../output.js';

export { DEFAULT_ACTION_REF, DEFAULT_ACTION_REPO, WORKFLOW_PATH, renderWorkflow } from '../../forge/polecat-workflow.js';

export interface InstallWorkflowOptions {
  force?: boolean;
  /** `owner/repo` of the action (default gastown-dev/gastown). */
  action?: string;
  /** Tag, branch or commit sha of the action (default v<this version>). */
  ref?: string;
}

/**
 * Writes the polecat workflow into the repository; an identical file is left alone, a
 * different one only with force (and the error says what the old one is).
 */
export async function installWorkflow(
  repoDir: string,
  opts: InstallWorkflowOptions = {},
): Promise<{ path: string; changed: boolean; action: string; replaced?: string }> {
  const top = (await runGitText(['rev-parse', '--show-toplevel'], { cwd: repoDir })).stdout.trim();
  const path = join(top, WORKFLOW_PATH);
  const action = actionReference(opts.action, opts.ref);
  const text = renderWorkflow(action);
  let replaced: string | undefined;
  if (existsSync(path)) {
    const old = readFileSync(path, 'utf8');
    if (old === text) return { path, changed: false, action };
    const what = describeExisting(old);
    replaced =
      what === 'npx'
        ? 'an old workflow that runs npx gt'
        : what === 'changed'
          ? 'a changed workflow'
          : `a workflow pinned to ${what.pinned}`;
    if (!opts.force) {
      const why =
        what === 'npx'
          ? `${WORKFLOW_PATH} is an old workflow that runs \`npx gt\` (which can fetch an unrelated package named gt): run gt install-workflow --force to replace it with one pinned to ${action}`
          : what === 'changed'
            ? `${WORKFLOW_PATH} exists and differs from the template (use --force to replace it)`
            : `${WORKFLOW_PATH} pins ${what.pinned}, not ${action} (use --force to replace it)`;
      throw new GastownError('gastown_conflict', why);
    }
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return { path, changed: true, action, ...(replaced ? { replaced } : {}) };
}

export function registerInstallWorkflow(program: Command, ctx: CliContext): void {
  program
    .command('install-workflow')
    .description(`write ${WORKFLOW_PATH}: the GitHub Actions job the app dispatches per bead, using the pinned polecat action`)
    .option('--force', 'replace an existing, different workflow file (upgrades one that runs npx gt)')
    .option('--action <owner/repo>', 'the repository of the polecat action', DEFAULT_ACTION_REPO)
    .option('--ref <ref>', 'the release tag or commit sha of the action to pin', DEFAULT_ACTION_REF)
    .action(async (o: InstallWorkflowOptions, cmd: Command) => {
      const r = await installWorkflow(ctx.cwd, o);
      emit(ctx, wantsJson(cmd), r, () =>
        r.changed
          ? [
              `wrote ${r.path} (uses ${r.action}${r.replaced ? `; replaced ${r.replaced}` : ''})`,
              'commit and push it; the app dispatches it with input "bead"',
              "set the repository variable GASTOWN_APP_URL to the app's URL so polecats push with a scoped token whose pull requests run CI",
            ].join('\n')
          : `${r.path} is up to date (uses ${r.action})`,
      );
    });
}
