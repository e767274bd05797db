import type { App, BlockAction, ButtonAction, RespondFn } from '@slack/bolt';
import { z } from 'zod';
import { GastownError } from '../errors.js';
import { authorizeChange } from './authorize-change.js';
import {
  ACTION_APPROVE_PLAN,
  ACTION_REPLY_MAIL,
  ACTION_RESLING_BEAD,
  ACTION_STOP_CONVOY,
  escapeMrkdwn,
  INPUT_REPLY_BLOCK,
  INPUT_REPLY_TEXT,
  type ReplyTarget,
  replyModal,
  VIEW_REPLY_MAIL,
} from './blocks.js';
import type { SlackListenerDeps } from './listener-deps.js';
import { AGENT_NAME, BEAD_ID, CONVOY_ID } from '../town/ids.js';
import { parseGtCommand, usageText } from './parse-command.js';
import { type GtReply, runGtCommand } from './run-gt-command.js';
import { withErrorReply } from './with-error-reply.js';

export type { SlackListenerDeps } from './listener-deps.js';

/** The slash command registered in slack-manifest.yml. */
export const GT_COMMAND = '/gt';

const replyTargetSchema = z.object({
  mail: z.string().min(1).max(200),
  to: z.string().regex(AGENT_NAME),
  bead: z.string().regex(BEAD_ID).nullable(),
});

/** Button values and modal metadata come back from Slack: validate them like any input. */
function parseReplyTarget(raw: string | undefined): ReplyTarget {
  try {
    return replyTargetSchema.parse(JSON.parse(raw ?? ''));
  } catch {
    throw new GastownError('gastown_bad_input', 'This reply button is malformed; answer with /gt mail send instead.');
  }
}

function idFrom(value: string | undefined, pattern: RegExp, what: string): string {
  if (value === undefined || !pattern.test(value)) {
    throw new GastownError('gastown_bad_input', `The button carries no valid ${what} id.`, { value });
  }
  return value;
}

function responder(respond: RespondFn): (r: GtReply) => Promise<unknown> {
  // Follow-ups to a button must not replace the message that holds the buttons.
  return (r) => respond({ ...r, replace_original: false });
}

/**
 * Wires `/gt` and the interactive buttons. Every listener acknowledges first (Slack gives
 * three seconds), then works and answers through `respond()` (the response_url), so slow
 * services never cost a retry from Slack. Changing operations go through
 * `authorizeChange`; read-only ones do not.
 */
export function registerSlackListeners(app: App, deps: SlackListenerDeps): void {
  const { logger, services } = deps;

  app.command(GT_COMMAND, async ({ command, ack, respond }) => {
    await ack();
    const parsed = parseGtCommand(command.text);
    const fields = { command: parsed.kind, slackUser: command.user_id, team: command.team_id };
    await withErrorReply(logger, fields, respond, async () => {
      if (parsed.kind === 'invalid') {
        await respond({ response_type: 'ephemeral', text: `:grey_question: ${parsed.error}\n\n${usageText()}` });
        return;
      }
      await respond(await runGtCommand(parsed, command.user_id, deps));
      logger.info(fields, 'slack command handled');
    });
  });

  /**
   * A button that changes something: ack at once, read the id the button carries, check
   * that the person may make the change, do it, and say in the channel what was done.
   */
  function changeButton(
    actionId: string,
    verb: string,
    pattern: RegExp,
    kind: 'bead' | 'convoy',
    run: (id: string, login: string) => Promise<string>,
  ): void {
    app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, body, action, respond }) => {
      await ack();
      const fields = { action: actionId, slackUser: body.user.id };
      await withErrorReply(logger, fields, responder(respond), async () => {
        const id = idFrom(action.value, pattern, kind);
        const { login } = await authorizeChange(deps, body.user.id, kind === 'bead' ? { bead: id } : { convoy: id }, `${verb} ${id}`);
        await responder(respond)({ response_type: 'in_channel', text: await run(id, login) });
        logger.info({ ...fields, [kind]: id }, 'slack action handled');
      });
    });
  }

  changeButton(ACTION_APPROVE_PLAN, 'approve', CONVOY_ID, 'convoy', async (convoyId, login) => {
    await services.approve(convoyId, login);
    return `Plan \`${convoyId}\` approved by ${escapeMrkdwn(login)}.`;
  });
  changeButton(ACTION_STOP_CONVOY, 'stop', CONVOY_ID, 'convoy', async (convoyId, login) => {
    await services.stop(convoyId, login);
    return `Convoy \`${convoyId}\` stopped by ${escapeMrkdwn(login)}.`;
  });
  changeButton(ACTION_RESLING_BEAD, 're-sling', BEAD_ID, 'bead', async (beadId, login) => {
    const r = await services.resling(beadId, login);
    return `\`${r.bead}\` re-slung to *${escapeMrkdwn(r.polecat)}* by ${escapeMrkdwn(login)}.`;
  });

  // Reply opens a modal at once (trigger ids expire in three seconds); the permission
  // check happens on submit, where the mail is actually sent.
  app.action<BlockAction<ButtonAction>>(ACTION_REPLY_MAIL, async ({ ack, body, action, respond, client }) => {
    await ack();
    const fields = { action: ACTION_REPLY_MAIL, slackUser: body.user.id };
    await withErrorReply(logger, fields, responder(respond), async () => {
      const target = parseReplyTarget(action.value);
      await client.views.open({ trigger_id: body.trigger_id, view: replyModal(target) });
    });
  });

  // Mentions get a pointer to the slash command; conversation happens through /gt.
  app.event('app_mention', async ({ event, say }) => {
    await withErrorReply(
      logger,
      { event: 'app_mention' },
      async () => undefined,
      async () => {
        await say({ text: 'Hi! Everything goes through `/gt`; try `/gt help`.', thread_ts: event.thread_ts ?? event.ts });
      },
    );
  });

  app.view(VIEW_REPLY_MAIL, async ({ ack, body, view, client }) => {
    await ack();
    const slackUser = body.user.id;
    const fields = { view: VIEW_REPLY_MAIL, slackUser };
    // A submitted modal has no response_url: answer in the user's DM with the bot.
    const reply = (r: GtReply) => client.chat.postMessage({ channel: slackUser, text: r.text });
    await withErrorReply(logger, fields, reply, async () => {
      const target = parseReplyTarget(view.private_metadata);
      const text = view.state.values[INPUT_REPLY_BLOCK]?.[INPUT_REPLY_TEXT]?.value?.trim() ?? '';
      if (text === '') throw new GastownError('gastown_bad_input', 'The reply was empty; nothing was sent.');
      const { login } = await authorizeChange(deps, slackUser, { agent: target.to }, `send mail to ${target.to}`);
      await services.sendMail(login, target.to, text);
      await reply({ response_type: 'ephemeral', text: `Reply sent to *${escapeMrkdwn(target.to)}*.` });
      logger.info({ ...fields, to: target.to }, 'slack reply sent');
    });
  });
}
