import { PassThrough, Readable } from 'node:stream';
import type { CliContext } from '../../src/cli/cli-context.js';
import { runCli, type CommandGroup } from '../../src/cli/main.js';
import { registerDeacon } from '../../src/cli/commands/deacon.js';
import { registerDemo } from '../../src/cli/commands/demo.js';
import { registerInstallWorkflow } from '../../src/cli/commands/install-workflow.js';
import { registerRefinery } from '../../src/cli/commands/refinery.js';
import { registerRunner } from '../../src/cli/commands/runner.js';

/** The lazily loaded command groups, as entry.ts registers them. */
export const LAZY_GROUPS: CommandGroup[] = [registerRunner, registerRefinery, registerDeacon, registerDemo, registerInstallWorkflow];

/** Runs the CLI in-process with the lazy groups and an environment without a model key. */
export async function gtx(
  cwd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d) => (stdout += d));
  err.on('data', (d) => (stderr += d));
  const base = { ...process.env };
  delete base.ANTHROPIC_API_KEY;
  delete base.GITHUB_TOKEN;
  const ctx: CliContext = {
    cwd,
    env: { ...base, GT_ACTOR: 'tester', ...env },
    stdout: out,
    stderr: err,
    stdin: Readable.from(['']),
    now: () => new Date(),
  };
  const code = await runCli(args, ctx, LAZY_GROUPS);
  return { code, stdout, stderr };
}
