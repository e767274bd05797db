import type { ChatPort } from '../chat/chat-port.js';
import { GastownError, isGastownError } from '../errors.js';
import { inbox } from '../rig/mail.js';
import type { Rig } from '../rig/rig.js';
import type { MailMessage } from '../town/types.js';
import type { IdentityResolver } from './permissions.js';
import type { RigProvider } from '../rig/rig-provider.js';
import { serialRunner, type SerialRunner } from './serial-runner.js';
import { silentLogger, type StructuredLogger } from '../structured-logger.js';

/** The ledger doc (kind `meta`) holding which mail has been sent on as DMs. */
export const MAIL_DM_CURSOR_DOC = 'slack-mail-dm';

export interface MailDmCursorDoc {
  /** Mail created before this, in an inbox with no cursor yet, is not sent (no flood of old mail). */
  since: string;
  /** Inbox name → id of the last message handled. */
  inboxes: Record<string, string>;
}

export interface MailDmPumpOptions {
  provider: RigProvider;
  chat: ChatPort;
  /** Which inboxes belong to people reachable on Slack (GitHub login → Slack user). */
  identity: Pick<IdentityResolver, 'slackUserFor'>;
  logger?: StructuredLogger;
  now?: () => Date;
}

export interface MailDmResult {
  sent: number;
  skipped: number;
}

async function readDoc(rig: Rig): Promise<MailDmCursorDoc | null> {
  return (await rig.ledger.get<MailDmCursorDoc>('meta', MAIL_DM_CURSOR_DOC))?.value ?? null;
}

/** Moves one inbox's cursor from `expected` to `to` with compare-and-swap (creating the doc at `since`). */
async function advance(rig: Rig, name: string, expected: string | undefined, to: string, since: string): Promise<void> {
  await rig.ledger.transact(
    async (tx) => {
      const doc = (await tx.get<MailDmCursorDoc>('meta', MAIL_DM_CURSOR_DOC)) ?? { since, inboxes: {} };
      if (doc.inboxes[name] !== expected) {
        throw new GastownError('gastown_conflict', `Another mail pump moved the DM cursor of ${name}`, { inbox: name });
      }
      tx.put<MailDmCursorDoc>(
        'meta',
        MAIL_DM_CURSOR_DOC,
        { ...doc, inboxes: { ...doc.inboxes, [name]: to } },
        `slack dm cursor ${name} ${to}`,
      );
    },
    { actor: 'gastown-slack' },
  );
}

async function pumpRepo(rig: Rig, opts: MailDmPumpOptions, startedAt: string): Promise<MailDmResult> {
  let doc = await readDoc(rig);
  if (doc === null) {
    // First run on this ledger: remember when we started, so only newer mail becomes DMs.
    await rig.ledger.transact(
      async (tx) => {
        if (!(await tx.get('meta', MAIL_DM_CURSOR_DOC)))
          tx.put<MailDmCursorDoc>('meta', MAIL_DM_CURSOR_DOC, { since: startedAt, inboxes: {} });
      },
      { actor: 'gastown-slack' },
    );
    doc = (await readDoc(rig))!;
  }
  let sent = 0;
  let skipped = 0;
  for (const name of await rig.ledger.chains('mail')) {
    const slackUser = await opts.identity.slackUserFor(name);
    if (slackUser === null) continue;
    const messages: MailMessage[] = (await inbox(rig, name)).map(({ read: _read, ...m }) => m);
    let last = doc.inboxes[name];
    let pending: MailMessage[];
    if (last === undefined) pending = messages.filter((m) => m.createdAt >= doc.since);
    else {
      const at = messages.findIndex((m) => m.id === last);
      if (at === -1)
        throw new GastownError('gastown_not_found', `DM cursor ${last} is not in ${name}'s inbox`, { inbox: name, cursor: last });
      pending = messages.slice(at + 1);
    }
    for (const m of pending) {
      try {
        await opts.chat.sendDm({ slackUser }, m);
        sent += 1;
      } catch (err) {
        // Someone unreachable (left the workspace) would block the inbox forever: skip them.
        if (!isGastownError(err, 'gastown_not_found')) throw err;
        skipped += 1;
      }
      await advance(rig, name, last, m.id, doc.since);
      last = m.id;
    }
  }
  return { sent, skipped };
}

/**
 * Sends mail addressed to a person (an inbox named after a GitHub login linked to a Slack
 * user) as a DM with a Reply button, exactly once: each inbox has its own cursor in the
 * ledger, moved right after each DM. Runs are chained, never two at once in one process.
 */
export function createMailDmPump(opts: MailDmPumpOptions): SerialRunner<MailDmResult[]> {
  const logger = opts.logger ?? silentLogger;
  const startedAt = (opts.now ?? (() => new Date()))().toISOString();
  return serialRunner(async () => {
    const results: MailDmResult[] = [];
    for (const repo of await opts.provider.repos()) {
      try {
        const r = await opts.provider.withRig(repo, (rig) => pumpRepo(rig, opts, startedAt));
        if (r.sent > 0) logger.info({ repo, sent: r.sent, skipped: r.skipped }, 'slack mail DMs sent');
        results.push(r);
      } catch (err) {
        logger.warn({ repo, code: (err as { code?: string }).code, err: { message: (err as Error).message } }, 'slack mail DM run failed');
      }
    }
    return results;
  });
}
