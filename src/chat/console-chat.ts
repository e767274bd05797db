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
 * The chat of local mode: prints one line per message. Thread replies are indented under the
 * convoy's first line; timestamps are a counter, enough to tie replies to their thread.
 */
export function createConsoleChat(write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): ChatPort {
  let seq = 0;
  return {
    async postFeedEvent(event, thread) {
      seq += 1;
      write(thread === null ? `[feed] ${feedLine(event)}` : `[feed]   ↳ ${feedLine(event)}`);
      return { ts: `console.${String(seq).padStart(6, '0')}` };
    },
    async sendDm(to, message: MailMessage) {
      const label = message.kind === 'nudge' ? 'nudge' : 'mail';
      const subject = message.subject ? `${message.subject}: ` : '';
      write(`[${label} → ${who(to)}] from ${message.from}: ${subject}${message.body}`);
    },
  };
}
