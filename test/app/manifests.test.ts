import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createGastownApp } from '../../src/app.js';
import { registerSlackListeners } from '../../src/slack/register-listeners.js';

const root = join(import.meta.dirname, '..', '..');
const readYaml = (file: string) => parse(readFileSync(join(root, file), 'utf8')) as Record<string, any>;

describe("app.yml (the GitHub App manifest for Probot's setup flow)", () => {
  it('leaves the webhook URL to Probot (it spreads app.yml over the manifest it builds)', () => {
    const manifest = readYaml('app.yml');

    expect(manifest).not.toHaveProperty('hook_attributes');
  });
});

/** The webhook events src/app.ts registers (`issues.labeled` → `issues`), from the real app function. */
async function handledGithubEvents(): Promise<Set<string>> {
  const names: string[] = [];
  const app = { on: (name: string) => names.push(name), log: { debug() {} } };
  const noServer = () => {
    throw new Error('No server instance');
  };
  await createGastownApp({ withRepo: () => Promise.reject(new Error('unused')), defaultModel: 'm', version: '0' })(
    app as never,
    {
      addHandler: noServer,
    } as never,
  );
  return new Set(names.map((n) => n.split('.')[0]!));
}

/** The Slack events register-listeners.ts listens to (`message` stands for every `message.*`). */
function handledSlackEvents(): Set<string> {
  const events: string[] = [];
  const bolt = { event: (name: string) => events.push(name), message: () => events.push('message'), command() {}, action() {}, view() {} };
  registerSlackListeners(bolt as never, { logger: {}, services: {} } as never);
  return new Set(events);
}

describe('event subscriptions match the handlers', () => {
  it('app.yml subscribes to exactly the webhook events the app handles', async () => {
    const subscribed = readYaml('app.yml').default_events as string[];

    expect(new Set(subscribed)).toEqual(await handledGithubEvents());
  });

  it('slack-manifest.yml subscribes to exactly the Slack events the bot handles', () => {
    const subscribed = (readYaml('slack-manifest.yml').settings.event_subscriptions.bot_events as string[]).map((e) => e.split('.')[0]!);

    expect(new Set(subscribed)).toEqual(handledSlackEvents());
  });
});
