/**
 * What keeps a working polecat in touch with the town. On every tick (as often as the
 * heartbeat or the sync is due):
 * 1. every `syncMs`, sync the ledger with the remote: the heartbeat goes out, nudges, mail
 *    and a convoy's stop come in (a runner on the rig's own clone needs no sync);
 * 2. ask the stop check (stop-check.ts); a yes ends the ticks;
 * 3. every settings.heartbeatMs, renew the heartbeat; a lost lease ends the ticks (unless it was lost to a stop);
 * 4. for an agent that reads a file rather than taking messages between turns, append new
 *    nudges and mail to its inbox file (marked read once written there).
 * A failed sync is reported and tried again next time: the work goes on meanwhile.
 */
import { appendFile } from 'node:fs/promises';
import { sanitizeUntrustedText } from '../../mayor/sanitize.js';
import { inbox, takeUnread } from '../../rig/mail.js';
import type { Rig } from '../../rig/rig.js';
import { syncRig } from '../../rig/sync-rig.js';
import { heartbeat, isLeaseLost, type Claim } from '../../rig/work.js';
import type { MailMessage } from '../../town/types.js';
import type { StopCheck, StopVerdict } from './stop-check.js';

/** Runs remote work one at a time in a runner: a sync never interleaves with a claim being published. */
export type RemoteQueue = <T>(fn: () => Promise<T>) => Promise<T>;

export function remoteQueue(): RemoteQueue {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>) => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

export interface TownLinkOptions {
  rig: Rig;
  claim: Claim;
  /** The ledger's remote and how often to sync with it; null when this runner does not sync. */
  sync: { remote: string; everyMs: number; queue: RemoteQueue } | null;
  stopCheck: StopCheck;
  /** Where to append messages for the agent; null when the agent takes them between turns. */
  inboxFile: string | null;
  /** Mail the agent must not get here (a revision round's feedback goes into its next prompt). */
  keep: (m: MailMessage) => boolean;
  onStop(verdict: StopVerdict): void;
  onLeaseLost(): void;
  log(line: string): void;
}

export interface TownLink {
  /** Ends the ticks and waits for the one running. */
  close(): Promise<void>;
}

export function startTownLink(o: TownLinkOptions): TownLink {
  const { rig, claim } = o;
  let ended = false;
  let lastSync = Date.now();
  let lastBeat = Date.now();
  let syncFailing = false;
  let running: Promise<void> = Promise.resolve();

  const tick = async () => {
    if (ended) return;
    if (o.sync && Date.now() - lastSync >= o.sync.everyMs) {
      lastSync = Date.now();
      const { remote, queue } = o.sync;
      try {
        await queue(() => syncRig(rig, remote));
        if (syncFailing) o.log('ledger sync works again');
        syncFailing = false;
      } catch (err) {
        if (!syncFailing) o.log(`ledger sync failed (retrying every ${o.sync.everyMs} ms): ${(err as Error).message}`);
        syncFailing = true;
      }
    }
    const stopFor = async (): Promise<boolean> => {
      const verdict = await o.stopCheck(rig, claim);
      if (!verdict) return false;
      ended = true;
      o.onStop(verdict);
      return true;
    };
    if (await stopFor()) return;
    try {
      if (Date.now() - lastBeat >= rig.settings.heartbeatMs) {
        lastBeat = Date.now();
        await heartbeat(rig, claim);
      }
    } catch (err) {
      if (!isLeaseLost(err)) return;
      // A stop also takes the bead off its polecat: that is a stop, not a lost lease.
      if (await stopFor()) return;
      ended = true;
      o.onLeaseLost();
      return;
    }
    if (o.inboxFile) await deliver(o.rig, claim.polecat, o.inboxFile, o.keep);
  };

  // A tick as often as the heartbeat or the sync is due, whichever is more often.
  const every = Math.min(rig.settings.heartbeatMs, o.sync?.everyMs ?? rig.settings.heartbeatMs);
  const timer = setInterval(() => {
    running = running.then(tick).catch((err: unknown) => o.log(`town link: ${(err as Error).message}`));
  }, every);

  return {
    async close() {
      ended = true;
      clearInterval(timer);
      await running;
    },
  };
}

/** Appends the polecat's unread messages to its inbox file, then they count as read. */
async function deliver(rig: Rig, polecat: string, file: string, keep: (m: MailMessage) => boolean): Promise<void> {
  // Written first, marked read after: a crash in between delivers a message twice, never loses one.
  const unread = (await inbox(rig, polecat)).filter((m) => !m.read && !keep(m));
  if (!unread.length) return;
  await appendFile(file, unread.map(formatForFile).join(''));
  const ids = new Set(unread.map((m) => m.id));
  await takeUnread(rig, polecat, (m) => ids.has(m.id));
}

/** One message as the agent reads it: who, when, what (text from people is data: sanitised). */
export function formatForFile(m: MailMessage): string {
  const head = m.kind === 'nudge' ? `nudge from ${m.from}` : `mail from ${m.from}: ${sanitizeUntrustedText(m.subject)}`;
  return `--- ${head} (${m.createdAt}) ---\n${sanitizeUntrustedText(m.body).trim()}\n\n`;
}
