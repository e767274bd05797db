import { generateKeyPairSync } from 'node:crypto';
import nock from 'nock';
import pino from 'pino';
import { Probot, Server } from 'probot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlackApp } from '../../src/slack/create-slack-app.js';
import { usageText } from '../../src/slack/parse-command.js';
import { registerSlackListeners } from '../../src/slack/register-listeners.js';
import { captureResponses, fakeServices, post, SIGNING_SECRET, SLACK_API, signedHeaders, slashCommandBody } from './helpers.js';
import { freePort } from '../helpers/free-port.js';

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});

afterAll(() => {
  nock.enableNetConnect();
});

describe('wiring into Probot v14 through addHandler', () => {
  it('serves /slack/events on the Probot port and leaves the webhook route to Probot', async () => {
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const log = pino({ level: 'silent' });
    const port = await freePort();
    const server = new Server({
      Probot: Probot.defaults({ appId: 1, privateKey, secret: 'webhook-secret', log }),
      host: '127.0.0.1',
      port,
      log,
    });
    // What src/app.ts does, in a few lines (the pino logger is our StructuredLogger).
    const slack = createSlackApp({
      botToken: 'xoxb-test-token',
      signingSecret: SIGNING_SECRET,
      botId: 'B0BOT',
      botUserId: 'U0BOT',
      apiUrl: `${SLACK_API}/api/`,
      logger: log,
      clientOptions: { retryConfig: { retries: 0 } },
    });
    registerSlackListeners(slack.app, {
      services: fakeServices(),
      identity: { loginFor: async () => null, slackUserFor: async () => null },
      permissions: async () => 'none',
      logger: log,
    });
    await server.load((_app, { addHandler }) => {
      addHandler(slack.handler!);
    });
    await server.start();
    await slack.start();
    const url = `http://127.0.0.1:${port}`;
    const { bodies } = captureResponses(1);
    const body = slashCommandBody('help');

    try {
      const slackRes = await post(url, body, signedHeaders(body));
      const badRes = await post(url, body, signedHeaders(body, { secret: 'wrong' }));
      const webhookRes = await fetch(`${url}/api/github/webhooks`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'ping',
          'x-github-delivery': '1',
          'x-hub-signature-256': 'sha256=bad',
        },
        body: '{}',
      });

      expect(slackRes.status).toBe(200);
      expect((await bodies)[0]!.text).toBe(usageText());
      expect(badRes.status).toBe(401);
      expect(webhookRes.status).toBe(400);
    } finally {
      await slack.stop();
      await server.stop();
    }
  });
});
