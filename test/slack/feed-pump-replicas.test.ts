/**
 * Two app replicas each run the Slack feed pump over their own ledger mirror (separate data
 * dirs) of one repository: every feed event reaches the channel once, because a pump's
 * visit holds the repository's lease on the remote from its first sync (which brings the
 * other replica's cursor) to its last (which pushes its own).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { LedgerMirrors } from '../../src/github/ledger-mirror.js';
import { readFeed } from '../../src/rig/feed.js';
import type { Rig } from '../../src/rig/rig.js';
import type { RigProvider } from '../../src/rig/rig-provider.js';
import { sling } from '../../src/rig/sling.js';
import { createFeedPump, FEED_TYPES } from '../../src/slack/feed-pump.js';
import { createSlackChat, createSlackChatClient } from '../../src/slack/slack-chat.js';
import { SlackWebApiDouble } from '../support/slack-web-api-double.js';
import { TEST_GIT_ENV, tempDir } from '../helpers/temp-repo.js';
import { recordConvoy } from './rig-fixture.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A replica's view of `acme/web`: its own mirror under its own data dir, synced with the one remote. */
function replica(root: string, name: string): { mirrors: LedgerMirrors; provider: RigProvider } {
  const mirrors = new LedgerMirrors({
    dataDir: join(root, name),
    gitUrlTemplate: `file://${root}/remotes/{owner}/{repo}.git`,
    replicaId: name,
  });
  const provider: RigProvider = {
    defaultRepo: 'acme/web',
    repos: async () => ['acme/web'],
    withRig: (_repo, fn) =>
      mirrors.withRepoLedger({ owner: 'acme', repo: 'web', prefix: 'refs/gastown/', actor: 'gastown[bot]', token: async () => '' }, (s) =>
        fn(s.rig),
      ),
    close: async () => undefined,
  };
  cleanups.push(() => mirrors.close());
  return { mirrors, provider };
}

test('two replicas pumping the feed at the same moments post each event once', async () => {
  const dir = tempDir('feed-replicas');
  cleanups.push(dir.cleanup);
  const remote = join(dir.path, 'remotes', 'acme', 'web.git');
  mkdirSync(remote, { recursive: true });
  execFileSync('git', ['init', '-q', '--bare', remote], { env: TEST_GIT_ENV });
  const slack = await SlackWebApiDouble.start({ botToken: 'xoxb-replicas', members: ['U0ADA'], channels: ['C0FEED'] });
  cleanups.push(() => slack.stop());
  const chat = () =>
    createSlackChat({
      client: createSlackChatClient({ botToken: 'xoxb-replicas', apiUrl: slack.apiUrl, clientOptions: { retryConfig: { retries: 0 } } }),
      feedChannel: 'C0FEED',
      identity: { slackUserFor: async () => null },
      sleep: async () => {},
    });
  const [a, b] = [replica(dir.path, 'replica-a'), replica(dir.path, 'replica-b')];
  const pumps = [
    createFeedPump({ provider: a.provider, chat: chat(), backfill: true }),
    createFeedPump({ provider: b.provider, chat: chat(), backfill: true }),
  ];

  // Work arrives through either replica between rounds; both pumps run at once every round.
  const work: ((rig: Rig) => Promise<unknown>)[] = [
    (rig) => recordConvoy(rig, 'Alpha', { beads: 3 }),
    (rig) => recordConvoy(rig, 'Beta'),
    async (rig) => {
      const beads = (await rig.ledger.list<{ status: string }>('beads')).filter((x) => x.value.status === 'open');
      for (const [i, bead] of beads.slice(0, 3).entries()) await sling(rig, bead.id, ['nux', 'slit', 'toast'][i]);
    },
  ];
  for (const [round, step] of work.entries()) {
    await (round % 2 ? b : a).provider.withRig(null, step);
    await Promise.all(pumps.map((p) => p.run()));
  }
  await Promise.all(pumps.map((p) => p.run()));

  const events = await a.provider.withRig(null, async (rig) => (await readFeed(rig)).filter((e) => FEED_TYPES.has(e.type)));
  expect(events.length).toBeGreaterThanOrEqual(5);
  const posted = slack.messages.filter((m) => m.channel === 'C0FEED');
  expect(posted).toHaveLength(events.length);
  // Each event's text once: the two convoys' plans and the three slings.
  expect(posted.filter((m) => /planned/.test(m.text))).toHaveLength(2);
  expect(posted.filter((m) => /slung|hooked/i.test(m.text)).length).toBe(3);
}, 120_000);
