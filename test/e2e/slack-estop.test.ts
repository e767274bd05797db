/**
 * Slack's `/gt estop` on a GitHub-backed rig, with the real app process on the GitHub double
 * and the Slack Web API double: the stop reaches the same operation as the `/gt estop`
 * comment (the ledger flag published, the polecats' in-flight workflow runs cancelled), and
 * `/gt estop release` dispatches again. Slack's answers arrive at a loopback response_url.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SlackWebApiDouble } from '../support/slack-web-api-double.js';
import { SIGNING_SECRET, signedHeaders, slashCommandBody } from '../slack/helpers.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { TOWN_KINDS } from '../../src/rig/town-kinds.js';
import { MAINTAINER, OWNER, REPO, buildForTown, startGithubTown, type GithubTown } from './github-town.js';

let town: GithubTown | null = null;
let slack: SlackWebApiDouble | null = null;
let hooks: Server | null = null;

beforeAll(buildForTown, 300_000);
afterEach(async () => {
  await town?.stop();
  await slack?.stop();
  hooks?.closeAllConnections();
  await new Promise<void>((r) => (hooks ? hooks.close(() => r()) : r()));
  town = slack = hooks = null;
});

// Two independent beads whose one step outlasts the test: their runs are in progress until cancelled.
const SLOW_GOAL = [
  'Two slow chores.',
  '',
  '- [ ] Slow chore one',
  '  ```sh',
  '  sleep 120',
  '  ```',
  '- [ ] Slow chore two',
  '  ```sh',
  '  sleep 120',
  '  ```',
].join('\n');

/** A loopback response_url: what the app answers a slash command with. */
async function responseUrl(): Promise<{ url: string; replies: Record<string, unknown>[] }> {
  const replies: Record<string, unknown>[] = [];
  hooks = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      replies.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => hooks!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/commands/1/2`, replies };
}

describe("Slack's /gt estop on a GitHub-backed rig", () => {
  it('cancels the polecats’ in-flight workflow runs as the issue comment does; a reader is refused; release dispatches again', async () => {
    slack = await SlackWebApiDouble.start({ botToken: 'xoxb-e2e', members: ['UADA', 'UMAL'], channels: [] });
    const { url: response, replies } = await responseUrl();
    town = await startGithubTown({
      env: {
        SLACK_BOT_TOKEN: 'xoxb-e2e',
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slack.apiUrl,
        SLACK_BOT_ID: 'B0BOT',
        SLACK_BOT_USER_ID: 'U0BOT',
        SLACK_USER_MAP: `UADA:${MAINTAINER},UMAL:mallory`,
        SLACK_DEFAULT_REPO: `${OWNER}/${REPO}`,
      },
    });
    const { double, app } = town;
    const slash = async (text: string, user: string) => {
      const form = new URLSearchParams(slashCommandBody(text, user));
      form.set('response_url', response);
      const body = form.toString();
      const res = await fetch(`http://127.0.0.1:${app.port}/slack/events`, { method: 'POST', body, headers: signedHeaders(body) });
      expect(res.status).toBe(200);
      const before = replies.length;
      await double.until(`Slack's answer to /gt ${text}`, () => replies.length > before, 60_000);
      return String(replies[before]!.text);
    };
    const dispatches = () => double.count('POST', /\/actions\/workflows\/gastown-polecat\.yml\/dispatches$/);
    const runs = () => [...double.state.runs.values()];

    const goal = double.openIssue(MAINTAINER, 'Slow chores', SLOW_GOAL);
    double.addLabel(MAINTAINER, goal, 'gastown:mayor');
    await double.until('two polecat runs in progress', () => runs().filter((r) => r.status === 'in_progress').length === 2, 120_000);
    expect(dispatches()).toBe(2);

    expect(await slash('estop', 'UMAL')).toContain('mallory has only read access');
    expect(runs().every((r) => r.status === 'in_progress')).toBe(true);

    const engaged = await slash('estop', 'UADA');
    expect(engaged).toBe(
      `Emergency stop engaged in ${OWNER}/${REPO} by ${MAINTAINER}: every polecat stops at its next checkpoint, nothing is slung; 2 polecat runs were cancelled.`,
    );
    await double.until('both runs cancelled', () => runs().every((r) => r.status === 'completed'), 60_000);
    await double.quiet();
    expect(runs().map((r) => r.conclusion)).toEqual(['cancelled', 'cancelled']);
    expect(double.count('POST', /\/actions\/runs\/\d+\/cancel$/)).toBe(2);
    // The flag reached the repository's ledger (where the runners' syncs read it), and nothing more was dispatched.
    expect(dispatches()).toBe(2);
    const ledger = await Ledger.open({ kinds: TOWN_KINDS, repoDir: double.repo.path });
    try {
      expect((await ledger.get('meta', 'estop'))?.value).toMatchObject({ engaged: true, by: MAINTAINER });
    } finally {
      ledger.close();
    }
    // No issue comment was needed for it.
    expect([...double.state.comments.values()].some((c) => c.body.startsWith('/gt estop'))).toBe(false);

    expect(await slash('estop release', 'UADA')).toBe(`Emergency stop released in ${OWNER}/${REPO} (${MAINTAINER}).`);
    await double.until('the beads dispatched again', () => dispatches() === 4, 60_000);

    // Stop again so the town shuts down without waiting for the slow steps.
    await slash('estop', 'UADA');
    await double.until('the new runs cancelled', () => runs().every((r) => r.status === 'completed'), 60_000);
    await double.quiet();
    expect(dispatches()).toBe(4);
  }, 400_000);
});
