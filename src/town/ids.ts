import { hexDigest } from '../digest.js';
import { GastownError } from '../errors.js';

/** Characters of base36 a 256-bit digest yields once left-padded. */
const DIGEST_CHARS = 50;

/** Smallest k with 36^k > population, i.e. ceil(log36(population + 1)) without float error. */
function base36Digits(population: number): number {
  let k = 0;
  for (let room = 1; room <= population; room *= 36) k += 1;
  return k;
}

/** An endless, deterministic base36 stream from the seed, so growth never runs out. */
function* base36Stream(seed: string): Generator<string> {
  for (let block = 0; ; block++) {
    const hex = hexDigest('sha256', block === 0 ? seed : `${seed}\n${block}`);
    yield* BigInt(`0x${hex}`).toString(36).padStart(DIGEST_CHARS, '0');
  }
}

/**
 * `${prefix}-` plus a base36 hash of the seed: the same seed gives the same id on every
 * machine. Length starts at max(4, ceil(log36(population+1)) + 2), which keeps the chance of
 * a collision small as the rig grows, and grows by one character per collision until free.
 */
export function shortId(prefix: string, seed: string, taken: (id: string) => boolean, population: number): string {
  if (!/^[a-z][a-z0-9]*$/.test(prefix)) {
    throw new GastownError('gastown_bad_input', `bad id prefix "${prefix}": use lowercase letters and digits`, { prefix });
  }
  const length = Math.max(4, base36Digits(Math.max(0, Math.floor(population))) + 2);
  let body = '';
  for (const ch of base36Stream(seed)) {
    body += ch;
    if (body.length < length) continue;
    const id = `${prefix}-${body}`;
    if (!taken(id)) return id;
  }
  throw new Error('unreachable: base36Stream is infinite');
}

/**
 * Every identifier the town writes or parses, in one place: ids, names, branch names, hidden
 * markers, commit trailers and run titles. Patterns are anchored; parsers return null for
 * anything else. Shell copies (the git hooks in hooks/, the workflow template) say so.
 */

/** `gt-` and at least 4 base36 characters, as `shortId` makes them. */
export const BEAD_ID = /^gt-[0-9a-z]{4,}$/;
export const CONVOY_ID = /^cv-[0-9a-z]{4,}$/;
/** `owner/repo` as GitHub allows them. */
export const REPO = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;

/** Agent names (polecats, `mayor`): letters, digits, `.`, `_`, `-`; at most 64. */
export const AGENT_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i;
/** GitHub logins (people a Slack user acts as). */
export const GITHUB_LOGIN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,38}$/;

/** Anything shaped like a bead id, valid or not: a typo must fail as "no bead", not become a goal. */
export function looksLikeBeadId(s: string): boolean {
  return /^gt-[0-9a-z]+$/.test(s);
}

export function isBeadId(s: string): boolean {
  return BEAD_ID.test(s);
}

export function isConvoyId(s: string): boolean {
  return CONVOY_ID.test(s);
}

/** Throws `gastown_bad_input` unless `id` is a convoy id; returns it. */
export function checkConvoyId(id: string): string {
  if (!isConvoyId(id)) throw new GastownError('gastown_bad_input', `not a convoy id: ${JSON.stringify(id)} (convoy ids look like cv-1a2b)`);
  return id;
}

/** A mail message's id (`m-` and base36). */
export const MESSAGE_ID = /^m-[0-9a-z]+$/;

/** Throws `gastown_bad_input` unless `id` is a message id; returns it. */
export function checkMessageId(id: string): string {
  if (!MESSAGE_ID.test(id)) throw new GastownError('gastown_bad_input', `not a message id: ${JSON.stringify(id)}`);
  return id;
}

/** Throws `gastown_bad_input` unless `id` is a bead id; returns it. */
export function checkBeadId(id: string): string {
  if (!isBeadId(id)) throw new GastownError('gastown_bad_input', `not a bead id: ${JSON.stringify(id)} (bead ids look like gt-1a2b)`);
  return id;
}

const BEAD = '(gt-[0-9a-z]{4,})';

/** The branch a polecat works a bead on. */
export function polecatBranch(polecat: string, beadId: string): string {
  return `polecat/${polecat}/${beadId}`;
}

const POLECAT_BRANCH = new RegExp(`^polecat/([A-Za-z0-9._-]+)/${BEAD}$`);

/** `polecat/<name>/<bead>` → its parts, or null. */
export function parsePolecatBranch(branch: string): { polecat: string; bead: string } | null {
  const m = POLECAT_BRANCH.exec(branch);
  return m ? { polecat: m[1]!, bead: m[2]! } : null;
}

/** The commit trailer the commit-msg hook adds (hooks/commit-msg writes the same). */
export const BEAD_TRAILER = 'Gastown-Bead';
const TRAILER = new RegExp(`^${BEAD_TRAILER}:\\s*${BEAD}\\s*$`, 'im');

/** The trailer naming the polecat that made a commit. */
export const POLECAT_TRAILER = 'Gastown-Polecat';

/** The trailers every polecat commit carries. */
export function polecatTrailers(beadId: string, polecat: string): Record<string, string> {
  return { [BEAD_TRAILER]: beadId, [POLECAT_TRAILER]: polecat };
}

export function parseBeadTrailer(text: string | null | undefined): string | null {
  return TRAILER.exec(text ?? '')?.[1] ?? null;
}

/** The hidden marker that identifies a bead's issue or pull request. */
export function beadMarker(beadId: string): string {
  return `<!-- gastown:bead ${beadId} -->`;
}

/** The hidden marker that identifies a convoy's status comment. */
export function convoyMarker(convoyId: string): string {
  return `<!-- gastown:convoy ${convoyId} -->`;
}

const BEAD_MARKER = /<!-- gastown:bead ([A-Za-z0-9._-]+) -->/;

/** The bead a body's hidden marker names (not checked as a bead id: callers decide), or null. */
export function parseBeadMarker(body: string | null | undefined): string | null {
  return BEAD_MARKER.exec(body ?? '')?.[1] ?? null;
}

/** Closes the comment that says a polecat branch was rebased without its agent. */
export function rebasedMarker(beadId: string, tip: string): string {
  return `<!-- gastown:rebased ${beadId} ${tip} -->`;
}

/** Closes the comment that reports a revision round's push. */
export function revisionMarker(beadId: string, round: number): string {
  return `<!-- gastown:revision ${beadId} round ${round} -->`;
}

/** The one comment that reports a planning failure on an issue (edited, not repeated). */
export function failureMarker(issueNumber: number): string {
  return `<!-- gastown:failure issue-${issueNumber} -->`;
}

/** Closes the comment that says a convoy landed. */
export function landedMarker(convoyId: string): string {
  return `<!-- gastown:landed ${convoyId} -->`;
}

/**
 * The person an app-made issue or comment acts for (see github/delegated-actor.ts for when
 * it counts: only on objects GitHub attests our app made).
 */
export function onBehalfOfMarker(login: string): string {
  return `<!-- gastown:on-behalf-of ${login} -->`;
}

const ON_BEHALF_OF = new RegExp(`<!-- gastown:on-behalf-of (${GITHUB_LOGIN.source.slice(1, -1)}) -->`);

/** The login an on-behalf-of marker names, or null (says nothing about whether it counts). */
export function parseOnBehalfOf(body: string | null | undefined): string | null {
  return ON_BEHALF_OF.exec(body ?? '')?.[1] ?? null;
}

/** The first gastown marker in a body, or null. */
export function findMarker(body: string | null | undefined): string | null {
  const match = /<!-- gastown:[a-z]+ [A-Za-z0-9._#-]+ -->/.exec(body ?? '');
  return match ? match[0] : null;
}

/** The polecat workflow's run name (its `run-name:` in templates/gastown-polecat.yml). */
export function polecatRunTitle(beadId: string): string {
  return `gastown-polecat ${beadId}`;
}

const RUN_TITLE = new RegExp(`^gastown-polecat ${BEAD}$`);

export function parsePolecatRunTitle(title: unknown): string | null {
  return typeof title === 'string' ? (RUN_TITLE.exec(title)?.[1] ?? null) : null;
}

/** Names the review a revision request came from (in its inbox message), so the runner can fetch its inline comments. */
export function reviewMarker(reviewId: number, pr: number): string {
  return `<!-- gastown:review ${reviewId} on #${pr} -->`;
}

/** The review and pull request a `reviewMarker` names, or null. */
export function parseReviewMarker(text: string | null | undefined): { review: number; pr: number } | null {
  const m = /<!-- gastown:review (\d+) on #(\d+) -->/.exec(text ?? '');
  return m ? { review: Number(m[1]), pr: Number(m[2]) } : null;
}
