/**
 * Mirrors a recorded convoy onto GitHub: one child issue per bead (a sub-issue of the
 * parent), native blocked-by edges, the ledger mark that it is on GitHub, then the status
 * comment. Every step is an `ensure*` (the forge batches them), and each new link is
 * recorded in the ledger before the next write, so a crash or a redelivery resumes where it
 * stopped without creating anything twice.
 */
import type { Bead, ForgeLink } from '../town/types.js';
import type { Delivery } from './delivery.js';
import { parentKey, repoUrl } from './delivery.js';
import type { RecordedConvoy } from '../rig/town-service.js';
import type { RepoServices } from './app-deps.js';
import { STATUS_COMMENT, statusCommentOf } from './github-keys.js';
import { renderConvoyStatus } from './render-status.js';

export async function materialiseConvoy(
  delivery: Delivery,
  services: Pick<RepoServices, 'town'>,
  recorded: RecordedConvoy,
  /** Runs once the convoy is fully on GitHub, before the status comment (dispatch, so the comment shows it). */
  afterMaterialised?: () => Promise<unknown>,
): Promise<RecordedConvoy> {
  const { forge, config, target } = delivery;
  const parent: ForgeLink = { number: target.issue.number, id: target.issue.id, url: target.issue.url };

  // 1. Child issues, each a sub-issue of the parent; each link is recorded in the ledger as
  //    soon as the forge knows it, so a crash later never costs a duplicate issue.
  const recordedById = new Map(recorded.beads.map((b) => [b.id, b] as const));
  const items = recorded.beads.map((bead) => ({
    bead,
    labels: [config.labels.bead, bead.blockedBy.length > 0 ? config.labels.blocked : config.labels.ready],
  }));
  const links = await forge.ensureChildIssues(parent, items, async (beadId, link) => {
    const bead = recordedById.get(beadId);
    if (bead && (bead.issue?.number !== link.number || bead.issue.id !== link.id)) await services.town.linkBead(beadId, link);
  });
  const beads: Bead[] = recorded.beads.map((bead, i) => (links[i] ? { ...bead, issue: links[i] } : bead));

  // 2. Blocked-by edges, once every bead of the convoy has its issue.
  const byId = new Map(beads.map((b) => [b.id, b] as const));
  const edges = beads.flatMap((bead) =>
    bead.blockedBy.flatMap((blockerId) => {
      const blocker = byId.get(blockerId)?.issue;
      return bead.issue && blocker ? [{ child: bead.issue, blocker }] : [];
    }),
  );
  if (edges.length > 0) await forge.ensureBlockedBy(edges);

  // 3. The ledger learns the convoy is fully on GitHub (dispatch may start), then the status
  //    comment is written from the ledger as it is after `afterMaterialised`.
  let result: RecordedConvoy = { convoy: recorded.convoy, beads };
  await services.town.markMaterialised(recorded.convoy.id);
  if (afterMaterialised) {
    await afterMaterialised();
    result = (await services.town.convoyFor(parentKey(target))) ?? result;
  }
  await ensureStatus(delivery, services, result);
  if (target.issue.labels.includes(config.labels.failed)) await forge.setLabels(target.issue.number, { remove: [config.labels.failed] });
  return result;
}

/** Writes (or edits) the status comment and records its id when it is new. */
export async function ensureStatus(
  delivery: Delivery,
  services: Pick<RepoServices, 'town'>,
  recorded: RecordedConvoy,
  failure: { code: string; message: string } | null = null,
): Promise<void> {
  const { forge, config, target } = delivery;
  const protection = delivery.protection ? await delivery.protection().catch(() => null) : null;
  if (protection?.state === 'unknown')
    delivery.log.warn({ branch: protection.branch, detail: protection.detail }, 'Could not check the default branch protection');
  const markdown = renderConvoyStatus({
    convoy: recorded.convoy,
    beads: recorded.beads,
    repoUrl: repoUrl(target),
    failure,
    mayorLabel: config.labels.mayor,
    protection,
  });
  const known = statusCommentOf(recorded.convoy);
  const commentId = await forge.ensureStatusComment(target.issue.number, markdown, known);
  if (commentId !== null && commentId !== known) {
    await services.town.markConvoy(recorded.convoy.id, STATUS_COMMENT, commentId);
  }
}
