import type { Bead, FeedEvent, MailMessage } from '../town/types.js';
import { authorizeChange } from './authorize-change.js';
import { type Block, convoyBlocks, escapeMrkdwn, feedEventUrl, type Links, noLinks, planApprovalBlocks, statusBlocks } from './blocks.js';
import type { SlackListenerDeps } from './listener-deps.js';
import { type ValidGtCommand, usageText } from './parse-command.js';
import { requireLogin } from './permissions.js';
import type { TrailEntry } from './services.js';

/** What a command answers through `respond()`. */
export interface GtReply {
  response_type: 'ephemeral' | 'in_channel';
  text: string;
  blocks?: Block[];
}

const INBOX_LIMIT = 20;

function ephemeral(text: string, blocks?: Block[]): GtReply {
  return { response_type: 'ephemeral', text, ...(blocks ? { blocks } : {}) };
}

/** Changes are announced in the channel so the team sees who did what. */
function inChannel(text: string, blocks?: Block[]): GtReply {
  return { response_type: 'in_channel', text, ...(blocks ? { blocks } : {}) };
}

function ref(url: string | null, label: string): string {
  return url ? `<${url}|${escapeMrkdwn(label)}>` : `\`${escapeMrkdwn(label)}\``;
}

function readyText(beads: Bead[]): string {
  if (beads.length === 0) return 'No beads are ready.';
  const lines = beads.map((b) => `• ${ref(b.issue?.url ?? null, b.id)} ${escapeMrkdwn(b.title)} (P${b.priority})`);
  return [`*${beads.length} ready:*`, ...lines].join('\n');
}

function feedText(events: FeedEvent[], links: Links): string {
  if (events.length === 0) return 'The feed is empty.';
  return events
    .map((e) => `• ${escapeMrkdwn(e.actor)}: ${escapeMrkdwn(e.message)} ${ref(feedEventUrl(e, links), e.bead ?? e.convoy ?? e.type)}`)
    .join('\n');
}

function trailText(entries: TrailEntry[]): string {
  if (entries.length === 0) return 'No history yet.';
  return entries
    .map(
      (t) =>
        `• ${t.at.slice(0, 16).replace('T', ' ')} ${escapeMrkdwn(t.actor)}: ${escapeMrkdwn(t.summary)}${t.url ? ` <${t.url}|link>` : ''}`,
    )
    .join('\n');
}

function inboxText(messages: MailMessage[]): string {
  if (messages.length === 0) return 'Your inbox is empty.';
  const shown = messages.slice(-INBOX_LIMIT);
  const lines = shown.map((m) => `• *${escapeMrkdwn(m.from)}* ${escapeMrkdwn(m.subject || m.body.slice(0, 80))}`);
  const more = messages.length > shown.length ? `\n_${messages.length - shown.length} older not shown_` : '';
  return `*Inbox (${messages.length}):*\n${lines.join('\n')}${more}`;
}

/** Runs one parsed `/gt` command for a Slack user. Errors propagate to the listener's boundary. */
export async function runGtCommand(cmd: ValidGtCommand, slackUser: string, deps: SlackListenerDeps): Promise<GtReply> {
  const { services } = deps;
  const links = deps.links ?? noLinks;
  switch (cmd.kind) {
    case 'help':
      return ephemeral(usageText());
    case 'status':
      return ephemeral('Gas Town status', statusBlocks(await services.status(cmd.repo)));
    case 'convoy': {
      const view = await services.convoy(cmd.convoy);
      return ephemeral(`Convoy ${view.convoy.id}`, convoyBlocks(view));
    }
    case 'ready':
      return ephemeral(readyText(await services.ready()));
    case 'feed':
      return ephemeral(feedText(await services.feed(cmd.limit), links));
    case 'trail':
      return ephemeral(trailText(await services.trail(cmd.limit)));
    case 'mail_inbox': {
      const login = await requireLogin(deps.identity, slackUser);
      return ephemeral(inboxText(await services.inbox(login)));
    }
    case 'sling': {
      const { login } = await authorizeChange(deps, slackUser, { bead: cmd.bead }, `sling ${cmd.bead}`);
      const r = await services.sling(cmd.bead, cmd.polecat, login);
      return inChannel(`${ref(r.url, r.bead)} slung to *${escapeMrkdwn(r.polecat)}* by ${escapeMrkdwn(login)}.`);
    }
    case 'sling_goal': {
      const { login } = await authorizeChange(deps, slackUser, { repo: cmd.repo }, `plan work in ${cmd.repo}`);
      const convoy = await services.slingGoal(cmd.goal, cmd.repo, login);
      const text = `${escapeMrkdwn(login)} asked the Mayor: convoy \`${convoy.id}\` ${escapeMrkdwn(convoy.title)} (${convoy.status}).`;
      return inChannel(text, convoy.status === 'awaiting_approval' ? planApprovalBlocks(convoy) : undefined);
    }
    case 'approve': {
      const { login } = await authorizeChange(deps, slackUser, { convoy: cmd.convoy }, `approve ${cmd.convoy}`);
      const convoy = await services.approve(cmd.convoy, login);
      return inChannel(`Convoy \`${convoy.id}\` approved by ${escapeMrkdwn(login)}; beads will be slung.`);
    }
    case 'stop': {
      const { login } = await authorizeChange(deps, slackUser, { convoy: cmd.convoy }, `stop ${cmd.convoy}`);
      const convoy = await services.stop(cmd.convoy, login);
      return inChannel(`Convoy \`${convoy.id}\` stopped by ${escapeMrkdwn(login)}.`);
    }
    case 'budget': {
      const { login } = await authorizeChange(deps, slackUser, { convoy: cmd.convoy }, `change the budget of ${cmd.convoy}`);
      const r = await services.budget(cmd.convoy, cmd.amount, login);
      return inChannel(`Convoy \`${cmd.convoy}\` budget ${escapeMrkdwn(r.text)} (${escapeMrkdwn(login)}).`);
    }
    case 'estop': {
      const target = cmd.repo ?? deps.defaultRepo;
      if (target === undefined) return ephemeral('Say which repository: `/gt estop [release] owner/repo`.');
      const { login, repo } = await authorizeChange(deps, slackUser, { repo: target }, 'use the emergency stop');
      const r = await services.estop(!cmd.release, repo, login);
      return inChannel(
        cmd.release
          ? `Emergency stop ${r.changed ? 'released' : 'was not engaged'} in ${escapeMrkdwn(repo)} (${escapeMrkdwn(login)}).`
          : `Emergency stop ${r.changed ? 'engaged' : 'already engaged'} in ${escapeMrkdwn(repo)} by ${escapeMrkdwn(login)}: every polecat stops at its next checkpoint, nothing is slung${r.cancelled ? `; ${r.cancelled} polecat run${r.cancelled === 1 ? ' was' : 's were'} cancelled` : ''}.`,
      );
    }
    case 'mail_send': {
      const { login } = await authorizeChange(deps, slackUser, { agent: cmd.to }, `send mail to ${cmd.to}`);
      await services.sendMail(login, cmd.to, cmd.text);
      return ephemeral(`Mail sent to *${escapeMrkdwn(cmd.to)}*.`);
    }
    case 'nudge': {
      const { login } = await authorizeChange(deps, slackUser, { agent: cmd.polecat }, `nudge ${cmd.polecat}`);
      await services.nudge(login, cmd.polecat, cmd.text);
      return ephemeral(`Nudged *${escapeMrkdwn(cmd.polecat)}*; it sees the message at its next turn.`);
    }
  }
}
