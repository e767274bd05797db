import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { GastownError } from '../../errors.js';
import { packagePath } from '../../polecat/runner/hooks-dir.js';
import { runGitText } from '../../ledger/run-git.js';
import type { CliContext } from '../cli-context.js';
import { emit, wantsJson } from '../output.js';

export const WORKFLOW_PATH = '.github/workflows/gastown-polecat.yml';

/** The workflow template shipped in the package's templates/. */
export function workflowTemplate(): string {
  return readFileSync(packagePath('templates/gastown-polecat.yml'), 'utf8');
}

/** Writes the polecat workflow into the repository; an identical file is left alone, a different one only with force. */
export async function installWorkflow(repoDir: string, opts: { force?: boolean } = {}): Promise<{ path: string; changed: boolean }> {
  const top = (await runGitText(['rev-parse', '--show-toplevel'], { cwd: repoDir })).stdout.trim();
  const path = join(top, WORKFLOW_PATH);
  const text = workflowTemplate();
  if (existsSync(path)) {
    if (readFileSync(path, 'utf8') === text) return { path, changed: false };
    if (!opts.force) throw new GastownError('gastown_conflict', `${WORKFLOW_PATH} exists and differs from the template (use --force to replace it)`);
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return { path, changed: true };
}

export function registerInstallWorkflow(program: Command, ctx: CliContext): void {
  program
    .command('install-workflow')
    .description(`write ${WORKFLOW_PATH}: the GitHub Actions runner the app dispatches per bead`)
    .option('--force', 'replace an existing, different workflow file')
    .action(async (o: { force?: boolean }, cmd: Command) => {
      const r = await installWorkflow(ctx.cwd, o);
      emit(ctx, wantsJson(cmd), r, () =>
        r.changed ? `wrote ${r.path}\ncommit and push it; the app dispatches it with input "bead"` : `${r.path} is up to date`,
      );
    });
}
