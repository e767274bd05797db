/**
 * The Mayor's reply to a comment that asked for a re-plan: what changed (new, changed,
 * cancelled, and started beads it left alone), or why nothing could change. Starts with a
 * hidden marker naming the comment, by which a redelivery finds it again.
 */
import { markdownInline } from '../forge/markdown-text.js';
import type { ReplanOutcome } from '../rig/town-service.js';
import { replanReplyMarker } from '../town/ids.js';
import type { Bead } from '../town/types.js';

export function renderReplanReply(input: { comment: number; by: string; outcome?: ReplanOutcome; error?: string }): string {
  const head = replanReplyMarker(input.comment);
  const who = `@${input.by.replace(/[^A-Za-z0-9-[\]]/g, '')}`;
  if (input.error !== undefined)
    return `${head}\nI could not re-plan from ${who}'s comment: ${markdownInline(input.error, 600)}\n\nNothing was changed: the plan stands as it was.`;
  const o = input.outcome!;
  if (o.status === 'refused' || o.status === 'unchanged' || o.status === 'already')
    return `${head}\nNothing changed after ${who}'s comment: ${markdownInline(o.reason ?? 'this comment was applied already', 300)}.`;
  const line = (b: Bead) => `- ${b.issue ? `#${b.issue.number} ` : ''}${markdownInline(b.title, 200)}`;
  const section = (title: string, beads: Bead[]) => (beads.length > 0 ? [`**${title}**`, ...beads.map(line)].join('\n') : '');
  const planner = o.planner === 'model' ? 'the model' : 'the checklist planner';
  const parts = [
    `${head}\nRe-planned from ${who}'s comment (${planner}). Work that had started is kept as it is.`,
    section('New', o.added),
    section('Changed', o.changed),
    section('Cancelled (closed as not planned)', o.cancelled),
    section('Left as they are (already started)', o.fixed),
    o.convoy.status === 'awaiting_approval'
      ? 'This repository asks for approval: the revised plan waits for a writer to comment `/gt approve`.'
      : o.convoy.status === 'landed'
        ? 'Every bead left is closed: the convoy has landed.'
        : '',
  ];
  return parts.filter(Boolean).join('\n\n');
}
