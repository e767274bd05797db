import { randomBytes } from 'node:crypto';
import type { FeedEvent, MailMessage } from '../town/types.js';
import type { ChatPort, ChatRecipient } from './chat-port.js';

function who(to: ChatRecipient): string {
  return 'login' in to ? to.login : to.slackUser;
}

function feedLine(event: FeedEvent): string {
  const subject = event.bead ?? event.convoy;
  return `${event.actor}: ${event.message}${subject ? ` (${subject})` : ''}${event.url ? ` ${event.url}` : ''}`;
}

/**
 * Timestamps name this process and count across every console chat in it, so a thread ts
 * the feed pump kept in the ledger never names another message after a restart.
 */
const RUN = randomBytes(3).toString('hex');
let posted = 0;

/** How a line names its thread: `#n` for this process's messages, the ts itself otherwise. */
function threadLabel(ts: string): string {
  const m = /^console\.([0-9a-f]+)\.(\d+)$/.exec(ts);
  return m && m[1] === RUN ? `#${Number(m[2])}` : ts;
}

/**
 * The chat of local mode: prints one line per message. Every feed line names its thread
 * (`[feed #3]`), so a reply is tied to its thread even when convoys' events interleave;
 * replies are also indented.
 */
export function createConsoleChat(write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): ChatPort {
  return {
    async postFeedEvent(event, thread) {
      posted += 1;
      const ts = `console.${RUN}.${String(posted).padStart(6, '0')}`;
      write(thread === null ? `[feed ${threadLabel(ts)}] ${feedLine(event)}` : `[feed ${threadLabel(thread)}]   ↳ ${feedLine(event)}`);
      return { ts };
    },
    async sendDm(to, message: MailMessage) {
      const label = message.kind === 'nudge' ? 'nudge' : 'mail';
      const subject = message.subject ? `${message.subject}: ` : '';
      write(`[${label} → ${who(to)}] from ${message.from}: ${subject}${message.body}`);
    },
  };
}
