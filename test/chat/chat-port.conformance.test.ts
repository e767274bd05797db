/**
 * One ChatPort suite, every adapter: the console chat of local mode (its printed lines read
 * back), and the Slack adapter over a real WebClient talking to a loopback Slack Web API.
 */
import { createConsoleChat } from '../../src/chat/console-chat.js';
import { createSlackChat, createSlackChatClient } from '../../src/slack/slack-chat.js';
import { chatPortSuite, type ChatView } from '../support/conformance/chat-port-suite.js';
import { SlackWebApiDouble } from '../support/slack-web-api-double.js';

chatPortSuite('console chat', async () => {
  const lines: string[] = [];
  const view: ChatView = {
    feed() {
      const tops = new Map<string, string>();
      const out: { text: string; under: string | null }[] = [];
      for (const l of lines) {
        const m = /^\[feed (\S+)\] (?:( {2}↳ ))?(.*)$/.exec(l);
        if (!m) continue;
        const [, thread, reply, text] = m as unknown as [string, string, string | undefined, string];
        if (reply) out.push({ text, under: tops.get(thread) ?? null });
        else {
          tops.set(thread, text);
          out.push({ text, under: null });
        }
      }
      return out;
    },
    dms() {
      return lines.flatMap((l) => {
        const m = /^\[(?:mail|nudge) → (\S+)\] (.*)$/.exec(l);
        return m ? [{ to: m[1]!, text: l }] : [];
      });
    },
  };
  return {
    chat: () => createConsoleChat((l) => lines.push(l)),
    view,
    person: { login: 'octocat', shownAs: 'octocat' },
    member: { slackUser: 'U0ADA', shownAs: 'U0ADA' },
    unreachable: [],
    close: async () => {},
  };
});

chatPortSuite('Slack chat (loopback Web API)', async () => {
  const slack = await SlackWebApiDouble.start({
    botToken: 'xoxb-conformance',
    members: ['U0OCTO', 'U0ADA', 'U0GONE'],
    channels: ['C0FEED'],
  });
  slack.deactivate('U0GONE');
  const linked: Record<string, string> = { octocat: 'U0OCTO', 'left-the-team': 'U0GONE' };
  const client = createSlackChatClient({
    botToken: 'xoxb-conformance',
    apiUrl: slack.apiUrl,
    clientOptions: { retryConfig: { retries: 0 } },
  });
  const view: ChatView = {
    feed: () =>
      slack.messages
        .filter((m) => m.channel === 'C0FEED')
        .map((m) => ({
          text: m.text,
          under: m.threadTs === null ? null : (slack.messages.find((p) => p.ts === m.threadTs)?.text ?? `(unknown thread ${m.threadTs})`),
        })),
    dms: () =>
      slack.messages.filter((m) => slack.dmChannels.has(m.channel)).map((m) => ({ to: slack.dmChannels.get(m.channel)!, text: m.text })),
  };
  return {
    chat: () => createSlackChat({ client, feedChannel: 'C0FEED', identity: { slackUserFor: async (login) => linked[login] ?? null } }),
    view,
    person: { login: 'octocat', shownAs: 'U0OCTO' },
    member: { slackUser: 'U0ADA', shownAs: 'U0ADA' },
    // Not linked to anyone in Slack; linked, but gone from the workspace; never a member.
    unreachable: [{ login: 'stranger' }, { login: 'left-the-team' }, { slackUser: 'U0NOBODY' }],
    close: () => slack.stop(),
  };
});
