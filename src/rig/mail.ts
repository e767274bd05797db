import { randomHex } from '../random-hex.js';
import { GastownError } from '../errors.js';
import { checkMessageId } from '../town/ids.js';
import { newMail, type NewMailInput } from '../town/mail.js';
import type { MailMessage, MailReadMark } from '../town/types.js';
import type { Rig } from './rig.js';
import type { Transaction } from '../ledger/ledger.js';

/** An inbox chain holds messages and read marks, both append-only. */
export type InboxEntry = { message: MailMessage } | { read: MailReadMark };

export interface InboxItem extends MailMessage {
  read: boolean;
}

/** Sends mail (or a nudge) to an agent's inbox; the feed records it in the same transaction. */
export async function sendMail(rig: Rig, input: Omit<NewMailInput, 'from'> & { from?: string }): Promise<MailMessage> {
  const id = `m-${Date.now().toString(36)}${randomHex(3)}`;
  const message = newMail({ ...input, from: input.from ?? rig.actor }, id, rig.at());
  await rig.ledger.transact(
    (tx) => {
      tx.append<InboxEntry>('mail', message.to, { message }, `${message.kind} to ${message.to}`);
      rig.emit(
        tx,
        message.kind === 'nudge' ? 'nudge_sent' : 'mail_sent',
        `${message.kind} from ${message.from} to ${message.to}: ${message.subject}`,
        {
          bead: message.bead,
        },
      );
    },
    { actor: rig.actor },
  );
  return message;
}

export function nudge(rig: Rig, to: string, text: string, from?: string): Promise<MailMessage> {
  const subject = text.length > 120 ? `${text.slice(0, 117)}...` : text;
  return sendMail(rig, { to, from, subject, body: text, kind: 'nudge' });
}

/** Every message of an inbox, oldest first, each with its read flag (one `git log`). */
export async function inbox(rig: Rig, agent: string): Promise<InboxItem[]> {
  const entries = await rig.ledger.readChain<InboxEntry>('mail', agent);
  const read = new Set<string>();
  for (const e of entries) if ('read' in e.value) read.add(e.value.read.readId);
  return entries.flatMap((e) => ('message' in e.value ? [{ ...e.value.message, read: read.has(e.value.message.id) }] : []));
}

/**
 * Unread messages of an inbox (those `which` accepts, default all), marked read in the same
 * step (what a working polecat sees between turns).
 */
export async function takeUnread(rig: Rig, agent: string, which: (m: MailMessage) => boolean = () => true): Promise<MailMessage[]> {
  const unread = (await inbox(rig, agent)).filter((m) => !m.read && which(m));
  if (unread.length === 0) return [];
  await rig.ledger.transact(
    (tx) => {
      for (const m of unread) tx.append<InboxEntry>('mail', agent, { read: { readId: m.id, at: rig.at() } }, `read ${m.id}`);
    },
    { actor: agent },
  );
  return unread.map(({ read: _read, ...m }) => m);
}

/** Opens one message (marks it read); looks in every inbox when no agent is given. */
export async function readMail(rig: Rig, id: string, agent?: string): Promise<MailMessage> {
  checkMessageId(id);
  const entries = agent ? await rig.ledger.readChain<InboxEntry>('mail', agent) : await rig.ledger.readChain<InboxEntry>('mail', null);
  const found = entries.find((e) => 'message' in e.value && e.value.message.id === id);
  if (!found || !('message' in found.value)) throw new GastownError('gastown_not_found', `no message ${id}`);
  const message = found.value.message;
  const already = entries.some((e) => 'read' in e.value && e.value.read.readId === id);
  if (!already)
    await rig.ledger.append<InboxEntry>(
      'mail',
      message.to,
      { read: { readId: id, at: rig.at() } },
      { actor: rig.actor, message: `read ${id}` },
    );
  return message;
}

/** Appends a mail message to an inbox inside a transaction (so it lands with the change it reports). */
export function mailInTx(
  rig: Rig,
  tx: Transaction,
  input: { from: string; to: string; subject: string; body: string; type: string; bead: string },
): void {
  const id = `m-${rig.now().getTime().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const message = newMail(input, id, rig.at());
  tx.append<InboxEntry>('mail', message.to, { message }, `mail to ${message.to}`);
  rig.emit(tx, 'mail_sent', `mail from ${message.from} to ${message.to}: ${message.subject}`, { bead: input.bead });
}

export function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim()) ?? '';
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}
