import type { Command } from 'commander';
import { GastownError } from '../../errors.js';
import { requestAppToken, revokeAppToken } from '../../forge/app-token-client.js';
import type { CliContext } from '../cli-context.js';

/**
 * `gt app-token`: inside a GitHub Actions job, exchanges the job's OIDC token at the Gas Town
 * app for an installation token scoped to the job's repository, and prints it (only it) on
 * stdout for the polecat action to mask and use. Refusals are one line on stderr, exit 1.
 * `--revoke` revokes the token in GASTOWN_REVOKE_TOKEN once the work is done.
 */
export function registerAppToken(program: Command, ctx: CliContext): void {
  program
    .command('app-token')
    .description(
      "GitHub Actions: exchange this job's OIDC token at the Gas Town app for a token scoped to this repository (printed on stdout)",
    )
    .option('--app-url <url>', 'the Gas Town app, e.g. https://gastown.example.com')
    .option('--audience <aud>', "audience of the OIDC token (the app's GASTOWN_OIDC_AUDIENCE)", 'gastown')
    .option('--revoke', 'revoke the token in GASTOWN_REVOKE_TOKEN instead (DELETE /installation/token)')
    .action(async (o: { appUrl?: string; audience: string; revoke?: boolean }, cmd: Command) => {
      if (o.revoke) {
        const token = ctx.env.GASTOWN_REVOKE_TOKEN?.trim();
        if (!token) throw new GastownError('gastown_bad_input', '--revoke needs the token in GASTOWN_REVOKE_TOKEN');
        const status = await revokeAppToken({ env: ctx.env, token });
        if (status !== 204)
          throw new GastownError('gastown_forge', `GitHub did not revoke the token (HTTP ${status}); it expires within the hour`);
        return;
      }
      if (!o.appUrl) throw new GastownError('gastown_bad_input', '--app-url is required');
      const got = await requestAppToken({ env: ctx.env, appUrl: o.appUrl, audience: o.audience });
      ctx.stdout.write(cmd.optsWithGlobals().json ? `${JSON.stringify(got)}\n` : `${got.token}\n`);
    });
}
