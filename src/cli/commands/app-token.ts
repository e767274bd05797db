import type { Command } from 'commander';
import { requestAppToken } from '../../forge/app-token-client.js';
import type { CliContext } from '../cli-context.js';

/**
 * `gt app-token`: inside a GitHub Actions job, exchanges the job's OIDC token at the Gas Town
 * app for an installation token scoped to the job's repository, and prints it (only it) on
 * stdout for the polecat action to mask and use. Refusals are one line on stderr, exit 1.
 */
export function registerAppToken(program: Command, ctx: CliContext): void {
  program
    .command('app-token')
    .description("GitHub Actions: exchange this job's OIDC token at the Gas Town app for a token scoped to this repository (printed on stdout)")
    .requiredOption('--app-url <url>', 'the Gas Town app, e.g. https://gastown.example.com')
    .option('--audience <aud>', 'audience of the OIDC token (the app\'s GASTOWN_OIDC_AUDIENCE)', 'gastown')
    .action(async (o: { appUrl: string; audience: string }, cmd: Command) => {
      const got = await requestAppToken({ env: ctx.env, appUrl: o.appUrl, audience: o.audience });
      ctx.stdout.write(cmd.optsWithGlobals().json ? `${JSON.stringify(got)}\n` : `${got.token}\n`);
    });
}
