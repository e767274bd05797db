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

/**
 * The inbox that runners' reports go to. Every finish (and every failure past the retry cap)
 * mails it, and one `mail/mayor` chain that every runner appends to was the one ref all of
 * them pushed: at 32 runners most of their push retries. Their reports go on a chain per
 * polecat instead (`reports/<polecat>`), written only where that polecat works, and the
 * mayor's inbox reads those chains beside its own.
 */
export const REPORTS_TO = 'mayor';

/** An inbox's entries: its own chain, and for the mayor the runners' report chains, messages in creation order. */
async function inboxEntries(rig: Rig, agent: string): Promise<{ value: InboxEntry }[]> {
  const own = await rig.ledger.readChain<InboxEntry>('mail', agent);
  if (agent !== REPORTS_TO) return own;
  const reports = await rig.ledger.readChain<InboxEntry>('reports', null);
  if (reports.length === 0) return own;
  const at = (e: InboxEntry) => ('message' in e ? e.message.createdAt : e.read.at);
  // A stable sort: entries of one chain that share a time keep their chain order.
  return [...own, ...reports].sort((a, b) => (at(a.value) < at(b.value) ? -1 : at(a.value) > at(b.value) ? 1 : 0));
}

/** Every message of an inbox, oldest first, each with its read flag (one `git log`; two for the mayor). */
export async function inbox(rig: Rig, agent: string): Promise<InboxItem[]> {
  const entries = await inboxEntries(rig, agent);
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
  const entries = agent
    ? await inboxEntries(rig, agent)
    : [...(await rig.ledger.readChain<InboxEntry>('mail', null)), ...(await rig.ledger.readChain<InboxEntry>('reports', null))];
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

/** A message id for mail written inside a transaction (on the rig's clock). */
function txMessageId(rig: Rig): string {
  return `m-${rig.now().getTime().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/** Appends a mail message to an inbox inside a transaction (so it lands with the change it reports). */
export function mailInTx(
  rig: Rig,
  tx: Transaction,
  input: { from: string; to: string; subject: string; body: string; type: string; bead: string },
): void {
  const message = newMail(input, txMessageId(rig), rig.at());
  tx.append<InboxEntry>('mail', message.to, { message }, `mail to ${message.to}`);
  rig.emit(tx, 'mail_sent', `mail from ${message.from} to ${message.to}: ${message.subject}`, { bead: input.bead });
}

/**
 * A runner's report to the mayor (POLECAT_DONE, BEAD_FAILED) inside a transaction: like
 * `mailInTx`, on the sending polecat's own report chain (see `REPORTS_TO`). Read marks stay on
 * the mayor's inbox chain, which only the mayor's readers write.
 */
export function reportInTx(
  rig: Rig,
  tx: Transaction,
  input: { from: string; subject: string; body: string; type: string; bead: string },
): void {
  const message = newMail({ ...input, to: REPORTS_TO }, txMessageId(rig), rig.at());
  tx.append<InboxEntry>('reports', message.from, { message }, `mail to ${message.to}`);
  rig.emit(tx, 'mail_sent', `mail from ${message.from} to ${message.to}: ${message.subject}`, { bead: input.bead });
}

export function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim()) ?? '';
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}
