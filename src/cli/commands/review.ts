import type { Command } from 'commander';
import { GastownError } from '../../errors.js';
import { sanitizeUntrustedText } from '../../mayor/sanitize.js';
import { withTown, type CliContext } from '../cli-context.js';
import { emit, wantsJson } from '../output.js';

/**
 * `gt review <bead> --approve | --request-changes "<text>"`: the local review of a finished
 * bead, through the same town operations the GitHub review handler calls
 * (approveReview, requestRevision).
 */
export function registerReview(program: Command, ctx: CliContext): void {
  program
    .command('review <bead>')
    .description('review a finished bead: --approve queues it for the Refinery, --request-changes sends it back to its polecat')
    .option('--approve', 'approve the branch for the Refinery')
    .option('--request-changes <text>', 'send the bead back to the polecat that made it, with this feedback')
    .action(async (beadId: string, o: { approve?: boolean; requestChanges?: string }, cmd: Command) => {
      if (!!o.approve === (o.requestChanges !== undefined))
        throw new GastownError('gastown_bad_input', 'give exactly one of --approve or --request-changes "<text>"');
      if (o.approve) {
        const bead = await withTown(ctx, (town, rig) => town.approveReview(beadId, rig.actor));
        emit(ctx, wantsJson(cmd), bead, () => `approved ${bead.id}${bead.pr ? '' : ': queued for the Refinery'}`);
        return;
      }
      const text = sanitizeUntrustedText(o.requestChanges ?? '');
      if (!text) throw new GastownError('gastown_bad_input', '--request-changes needs the feedback text');
      const out = await withTown(ctx, (town, rig) => town.requestRevision(beadId, { by: rig.actor, kind: 'review', text }));
      emit(ctx, wantsJson(cmd), out, () =>
        out.action === 'revise'
          ? `${beadId} sent back to ${out.polecat} (revision round ${out.round}${out.pending ? `; waits until ${out.polecat} is free` : ''})`
          : out.action === 'queue'
            ? `${beadId} is being revised by ${out.polecat ?? 'its polecat'}: your feedback is queued in its inbox`
            : out.action === 'needs_human'
              ? `${beadId} has had ${out.rounds} revision rounds (the cap): labelled gastown:needs-human, ${out.owner} was told`
              : `${beadId}: already recorded`,
      );
    });
}
