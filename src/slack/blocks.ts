import type { types } from '@slack/bolt';
import type { Bead, BeadStatus, Convoy, FeedEvent, MailMessage } from '../town/types.js';
import type { ConvoyView, StatusView } from './services.js';
import { beadsSpent, spentText } from '../town/costs.js';

/**
 * Block Kit renderers. Pure functions of plain views, so they are tested by structure and
 * reused by the listeners (replies) and the Slack chat adapter (feed, DMs).
 */

export type Block = types.KnownBlock;

/** Action ids: the listeners register these exact strings. */
export const ACTION_APPROVE_PLAN = 'gt_approve_plan';
export const ACTION_STOP_CONVOY = 'gt_stop_convoy';
export const ACTION_RESLING_BEAD = 'gt_resling_bead';
export const ACTION_REPLY_MAIL = 'gt_reply_mail';
/** callback_id of the modal the Reply button opens, and its text input. */
export const VIEW_REPLY_MAIL = 'gt_reply_mail_modal';
export const INPUT_REPLY_BLOCK = 'gt_reply_block';
export const INPUT_REPLY_TEXT = 'gt_reply_text';

/** Where beads and convoys are seen on the forge; null when not mirrored (local mode). */
export interface Links {
  bead(id: string): string | null;
  convoy(id: string): string | null;
}

export const noLinks: Links = { bead: () => null, convoy: () => null };

/** Value carried by the Reply button: who to answer and about what. */
export interface ReplyTarget {
  mail: string;
  to: string;
  bead: string | null;
}

// Slack section text is capped at 3000 characters; stay under it with room for markup.
const SECTION_LIMIT = 2900;

/** Slack mrkdwn treats &, < and > as control characters. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function link(url: string | null, label: string): string {
  return url ? `<${url}|${escapeMrkdwn(label)}>` : `\`${escapeMrkdwn(label)}\``;
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

function section(text: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(text, SECTION_LIMIT) } };
}

/** Splits lines into as few sections as fit Slack's per-section limit. */
function sections(lines: string[]): Block[] {
  const out: Block[] = [];
  let current = '';
  for (const line of lines) {
    const next = current ? `${current}\n${line}` : line;
    if (next.length > SECTION_LIMIT && current) {
      out.push(section(current));
      current = line;
    } else {
      current = next;
    }
  }
  if (current) out.push(section(current));
  return out;
}

export function progressBar(done: number, total: number, width = 10): string {
  const filled = total === 0 ? 0 : Math.round((Math.min(done, total) / total) * width);
  return `${'▰'.repeat(filled)}${'▱'.repeat(width - filled)} ${done}/${total}`;
}

const BEAD_EMOJI: Record<BeadStatus, string> = {
  open: ':white_circle:',
  hooked: ':hook:',
  in_progress: ':large_blue_circle:',
  in_review: ':eyes:',
  closed: ':white_check_mark:',
  failed: ':x:',
};

function beadUrl(bead: Bead): string | null {
  return bead.pr?.url ?? bead.issue?.url ?? null;
}

function beadLine(bead: Bead): string {
  const who = bead.assignee ? ` · ${escapeMrkdwn(bead.assignee)}` : '';
  return `${BEAD_EMOJI[bead.status]} ${link(beadUrl(bead), bead.id)} ${escapeMrkdwn(bead.title)} _${bead.status}_${who}`;
}

export function statusBlocks(view: StatusView): Block[] {
  const scope = view.repo ? ` for ${escapeMrkdwn(view.repo)}` : '';
  const counts = (Object.entries(view.beads) as [BeadStatus, number][])
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${BEAD_EMOJI[s]} ${s} ${n}`)
    .join('  ');
  const convoys = view.convoys.map((c) => `${link(c.url, c.id)} ${escapeMrkdwn(c.title)} _${c.status}_ ${progressBar(c.closed, c.total)}`);
  const polecats = view.polecats.map((p) => {
    const on = p.bead ? ` on \`${p.bead}\`` : '';
    return `*${escapeMrkdwn(p.name)}* ${p.state}${on}`;
  });
  return [
    { type: 'header', text: { type: 'plain_text', text: `Gas Town status${view.repo ? ` for ${view.repo}` : ''}` } },
    section(`*Beads${scope}:* ${counts || 'none'}`),
    ...(convoys.length ? sections(['*Convoys*', ...convoys]) : [section('*Convoys* none')]),
    { type: 'context', elements: [{ type: 'mrkdwn', text: polecats.length ? polecats.join(' · ') : 'No polecats yet' }] },
  ];
}

export function convoyBlocks(view: ConvoyView): Block[] {
  const { convoy, beads } = view;
  const closed = beads.filter((b) => b.status === 'closed').length;
  const approval = convoy.approved ? `approved by ${escapeMrkdwn(convoy.approvedBy ?? 'someone')}` : 'not approved';
  const spent = beadsSpent(beads);
  const paused = beads.filter((b) => b.paused === 'budget').length;
  // What the polecats spent, against the budget when there is one (nothing before the first run without one).
  const spending =
    spent.runs > 0 || convoy.budget
      ? `\nspent ${escapeMrkdwn(spentText(spent, convoy.budget))}${paused ? ` · ${paused} paused: budget spent` : ''}`
      : '';
  return [
    section(
      `*${link(view.url, convoy.id)}* ${escapeMrkdwn(convoy.title)}\n` +
        `_${convoy.status}_ · ${approval} · ${progressBar(closed, beads.length)}${spending}`,
    ),
    ...(beads.length ? sections(beads.map(beadLine)) : [section('_No beads yet._')]),
  ];
}

const FEED_EMOJI: Partial<Record<FeedEvent['type'], string>> = {
  convoy_planned: ':scroll:',
  convoy_approved: ':thumbsup:',
  convoy_landed: ':tada:',
  convoy_failed: ':x:',
  convoy_stopped: ':octagonal_sign:',
  bead_slung: ':hook:',
  bead_started: ':large_blue_circle:',
  bead_closed: ':white_check_mark:',
  bead_failed: ':x:',
  pr_opened: ':eyes:',
  merged: ':twisted_rightwards_arrows:',
  merge_failed: ':warning:',
  stalled: ':hourglass:',
  mail_sent: ':envelope:',
  nudge_sent: ':point_right:',
};

/** The link a feed line points at: the event's own, else its bead's, else its convoy's. */
export function feedEventUrl(event: FeedEvent, links: Links): string | null {
  return event.url ?? (event.bead ? links.bead(event.bead) : null) ?? (event.convoy ? links.convoy(event.convoy) : null);
}

export function feedEventText(event: FeedEvent): string {
  const subject = event.bead ?? event.convoy;
  return `${event.actor}: ${event.message}${subject ? ` (${subject})` : ''}`;
}

export function feedEventBlocks(event: FeedEvent, links: Links): Block[] {
  const emoji = FEED_EMOJI[event.type] ?? ':small_blue_diamond:';
  const subject = event.bead ?? event.convoy ?? 'details';
  return [section(`${emoji} *${escapeMrkdwn(event.actor)}* ${escapeMrkdwn(event.message)} · ${link(feedEventUrl(event, links), subject)}`)];
}

export function mailDmBlocks(message: MailMessage): Block[] {
  const target: ReplyTarget = { mail: message.id, to: message.from, bead: message.bead };
  const label = message.kind === 'nudge' ? 'Nudge' : 'Mail';
  const about = message.bead ? ` about \`${message.bead}\`` : '';
  return [
    section(
      `*${label} from ${escapeMrkdwn(message.from)}*${about}` +
        `${message.subject ? `: ${escapeMrkdwn(message.subject)}` : ''}\n${escapeMrkdwn(message.body)}`,
    ),
    {
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: ACTION_REPLY_MAIL,
          text: { type: 'plain_text', text: 'Reply' },
          value: JSON.stringify(target),
        },
      ],
    },
  ];
}

function planActions(convoyId: string): Block {
  return {
    type: 'actions',
    elements: [
      {
        type: 'button',
        action_id: ACTION_APPROVE_PLAN,
        style: 'primary',
        text: { type: 'plain_text', text: 'Approve plan' },
        value: convoyId,
      },
      {
        type: 'button',
        action_id: ACTION_STOP_CONVOY,
        style: 'danger',
        text: { type: 'plain_text', text: 'Stop convoy' },
        value: convoyId,
        confirm: {
          title: { type: 'plain_text', text: 'Stop this convoy?' },
          text: { type: 'mrkdwn', text: `No more beads of \`${convoyId}\` will be slung.` },
          confirm: { type: 'plain_text', text: 'Stop convoy' },
          deny: { type: 'plain_text', text: 'Keep going' },
        },
      },
    ],
  };
}

function reslingActions(beadId: string): Block {
  return {
    type: 'actions',
    elements: [
      {
        type: 'button',
        action_id: ACTION_RESLING_BEAD,
        text: { type: 'plain_text', text: 'Re-sling bead' },
        value: beadId,
      },
    ],
  };
}

/**
 * Buttons a feed line offers: a planned convoy can be approved or stopped where the team
 * sees it; a failed or stalled bead can be re-slung. Empty for other events.
 */
export function feedEventActions(event: FeedEvent): Block[] {
  if (event.type === 'convoy_planned' && event.convoy) return [planActions(event.convoy)];
  if ((event.type === 'bead_failed' || event.type === 'stalled') && event.bead) return [reslingActions(event.bead)];
  return [];
}

export function planApprovalBlocks(convoy: Convoy, beads: Bead[] = []): Block[] {
  const url = convoy.source?.issue?.url ?? null;
  const list = beads.map((b) => `• \`${b.id}\` ${escapeMrkdwn(b.title)}`);
  return [
    section(
      `:scroll: *Plan ready:* ${link(url, convoy.id)} ${escapeMrkdwn(convoy.title)}\n` +
        `${convoy.beads.length} beads, waiting for approval.`,
    ),
    ...sections(list),
    planActions(convoy.id),
  ];
}

export function beadActionBlocks(bead: Bead): Block[] {
  return [section(beadLine(bead)), reslingActions(bead.id)];
}

export function replyModal(target: ReplyTarget): types.View {
  return {
    type: 'modal',
    callback_id: VIEW_REPLY_MAIL,
    private_metadata: JSON.stringify(target),
    title: { type: 'plain_text', text: 'Reply' },
    submit: { type: 'plain_text', text: 'Send' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: INPUT_REPLY_BLOCK,
        label: { type: 'plain_text', text: `To ${truncate(target.to, 60)}` },
        element: { type: 'plain_text_input', action_id: INPUT_REPLY_TEXT, multiline: true, max_length: 4000 },
      },
    ],
  };
}
