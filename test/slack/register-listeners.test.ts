import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ACTION_APPROVE_PLAN,
  ACTION_REPLY_MAIL,
  ACTION_RESLING_BEAD,
  ACTION_STOP_CONVOY,
  INPUT_REPLY_BLOCK,
  INPUT_REPLY_TEXT,
  VIEW_REPLY_MAIL,
} from '../../src/slack/blocks.js';
import { createSlackApp } from '../../src/slack/create-slack-app.js';
import { GastownError } from '../../src/errors.js';
import type { RepoPermission } from '../../src/town/permissions.js';
import { registerSlackListeners } from '../../src/slack/register-listeners.js';
import type { SlackServices } from '../../src/slack/services.js';
import {
  blockActionBody,
  captureResponses,
  convoy,
  fakeServices,
  fixtureJson,
  post,
  recordingLogger,
  SIGNING_SECRET,
  SLACK_API,
  signedHeaders,
  slashCommandBody,
  startServer,
  type TestServer,
  waitFor,
} from './helpers.js';

const ADA = 'U0ADA';
const STRANGER = 'U0STRANGER';

interface Setup {
  services?: Partial<SlackServices>;
  permission?: RepoPermission;
  defaultRepo?: string;
}

const open: { stop(): Promise<void> }[] = [];

async function setup(opts: Setup = {}) {
  const logs = recordingLogger();
  const services = fakeServices({ repoOf: async () => 'acme/web', ...opts.services });
  const permissions = vi.fn(async (_login: string, _repo: string): Promise<RepoPermission> => opts.permission ?? 'write');
  const identity = {
    loginFor: vi.fn(async (user: string) => (user === ADA ? 'ada' : null)),
    slackUserFor: vi.fn(async () => null),
  };
  const slack = createSlackApp({
    botToken: 'xoxb-test-token',
    signingSecret: SIGNING_SECRET,
    botId: 'B0BOT',
    botUserId: 'U0BOT',
    apiUrl: `${SLACK_API}/api/`,
    logger: logs,
    clientOptions: { retryConfig: { retries: 0 } },
  });
  registerSlackListeners(slack.app, {
    services,
    identity,
    permissions,
    logger: logs,
    ...(opts.defaultRepo ? { defaultRepo: opts.defaultRepo } : {}),
  });
  await slack.start();
  const server: TestServer = await startServer(slack.handler!);
  open.push({ stop: async () => (await slack.stop(), await server.close()) });

  async function command(text: string, user = ADA) {
    const { bodies } = captureResponses(1);
    const body = slashCommandBody(text, user);
    const res = await post(server.url, body, signedHeaders(body));
    expect(res.status).toBe(200);
    return (await bodies)[0]!;
  }

  async function click(actionId: string, value: string, user = ADA) {
    const { bodies } = captureResponses(1);
    const body = blockActionBody(actionId, value, user);
    const res = await post(server.url, body, signedHeaders(body));
    expect(res.status).toBe(200);
    return (await bodies)[0]!;
  }

  return { services, permissions, identity, logs, server, command, click };
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});

afterAll(() => {
  nock.enableNetConnect();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.stop()));
  nock.cleanAll();
});

describe('/gt changing commands check write access', () => {
  it('refuses a user without write access, naming the repo, and never slings', async () => {
    const t = await setup({ permission: 'read' });

    const reply = await t.command('sling gt-a1b2 nux');

    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toContain('write access to acme/web');
    expect(reply.text).toContain('ada has only read access');
    expect(t.services.sling).not.toHaveBeenCalled();
    expect(t.permissions).toHaveBeenCalledWith('ada', 'acme/web');
    expect(t.services.repoOf).toHaveBeenCalledWith({ bead: 'gt-a1b2' });
    expect(t.logs.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', obj: expect.objectContaining({ code: 'gastown_forbidden', command: 'sling' }) }),
    );
  });

  it('slings as the linked GitHub login when the user can write', async () => {
    const t = await setup({
      permission: 'maintain',
      services: { sling: async (bead, polecat) => ({ bead, polecat: polecat ?? 'furiosa', url: 'https://github.com/acme/web/issues/3' }) },
    });

    const reply = await t.command('sling gt-a1b2');

    expect(t.services.sling).toHaveBeenCalledWith('gt-a1b2', undefined, 'ada');
    expect(reply.response_type).toBe('in_channel');
    expect(reply.text).toContain('<https://github.com/acme/web/issues/3|gt-a1b2> slung to *furiosa* by ada');
  });

  it('refuses an unlinked Slack user before asking for permissions', async () => {
    const t = await setup();

    const reply = await t.command('approve cv-9z8y', STRANGER);

    expect(reply.text).toContain(`<@${STRANGER}>`);
    expect(reply.text).toContain('not linked to a GitHub login');
    expect(t.permissions).not.toHaveBeenCalled();
    expect(t.services.approve).not.toHaveBeenCalled();
  });

  it('checks a planned goal against the repo given with --repo', async () => {
    const t = await setup({ services: { slingGoal: async () => convoy() } });

    const reply = await t.command('sling “Add dark mode” --repo acme/api');

    expect(t.permissions).toHaveBeenCalledWith('ada', 'acme/api');
    expect(t.services.slingGoal).toHaveBeenCalledWith('Add dark mode', 'acme/api', 'ada');
    const actionIds = reply.blocks.filter((b: any) => b.type === 'actions').flatMap((b: any) => b.elements.map((e: any) => e.action_id));
    expect(actionIds).toEqual([ACTION_APPROVE_PLAN, ACTION_STOP_CONVOY]);
  });

  it('falls back to the default repo, and fails closed without one', async () => {
    const withDefault = await setup({
      defaultRepo: 'acme/default',
      services: { repoOf: async () => null, stop: async (id) => convoy({ id, status: 'stopped' }) },
    });
    const without = await setup({ services: { repoOf: async () => null } });

    const ok = await withDefault.command('stop cv-9z8y');
    const refused = await without.command('nudge nux rebase please');

    expect(withDefault.permissions).toHaveBeenCalledWith('ada', 'acme/default');
    expect(ok.text).toContain('stopped by ada');
    expect(refused.text).toContain('Cannot tell which repository nux belongs to');
    expect(without.services.nudge).not.toHaveBeenCalled();
  });

  it('sends mail and nudges as the login, with the text as typed', async () => {
    const t = await setup({ services: { sendMail: async () => ({}) as any, nudge: async () => ({}) as any } });

    await t.command('mail send mayor plan "dark mode" next');
    await t.command('nudge nux  check the tests');

    expect(t.services.repoOf).toHaveBeenCalledWith({ agent: 'mayor' });
    expect(t.services.sendMail).toHaveBeenCalledWith('ada', 'mayor', 'plan "dark mode" next');
    expect(t.services.nudge).toHaveBeenCalledWith('ada', 'nux', 'check the tests');
  });
});

describe('/gt read-only commands', () => {
  it('status needs no identity and no permission', async () => {
    const t = await setup({
      permission: 'none',
      services: {
        status: async () => ({
          repo: null,
          convoys: [],
          polecats: [],
          beads: { open: 1, hooked: 0, in_progress: 0, in_review: 0, closed: 0, failed: 0 },
        }),
      },
    });

    const reply = await t.command('status', STRANGER);

    expect(reply.blocks[0].type).toBe('header');
    expect(t.permissions).not.toHaveBeenCalled();
    expect(t.identity.loginFor).not.toHaveBeenCalled();
  });

  it('mail inbox reads the linked login’s inbox without a permission check', async () => {
    const t = await setup({ services: { inbox: async () => [] } });

    const reply = await t.command('mail inbox');

    expect(t.services.inbox).toHaveBeenCalledWith('ada');
    expect(reply.text).toBe('Your inbox is empty.');
    expect(t.permissions).not.toHaveBeenCalled();
  });

  it('answers malformed input with the error and the usage', async () => {
    const t = await setup();

    const reply = await t.command('sling add dark mode');

    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toContain('`add` is not a bead id');
    expect(reply.text).toContain('/gt mail send');
  });
});

describe('/gt error boundary', () => {
  it('turns a coded error into its message', async () => {
    const t = await setup({
      services: {
        convoy: async (id) => {
          throw new GastownError('gastown_not_found', `No convoy ${id}`);
        },
      },
    });

    const reply = await t.command('convoy cv-0000');

    expect(reply).toEqual({ response_type: 'ephemeral', text: ':no_entry: No convoy cv-0000' });
  });

  it('turns an unexpected error into a reply and an error log line', async () => {
    const t = await setup({
      services: {
        ready: async () => {
          throw new Error('ledger exploded');
        },
      },
    });

    const reply = await t.command('ready');

    expect(reply.text).toBe(':warning: Something went wrong: ledger exploded');
    expect(t.logs.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'slack request failed',
        obj: expect.objectContaining({ command: 'ready', code: 'gastown_internal' }),
      }),
    );
  });

  it('acks before the work: a slow service does not delay the HTTP answer', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const t = await setup({ services: { ready: async () => (await gate, []) } });
    const { bodies } = captureResponses(1);
    const body = slashCommandBody('ready');

    const res = await post(t.server.url, body, signedHeaders(body));

    expect(res.status).toBe(200);
    expect(t.services.ready).toHaveBeenCalled();
    release();
    expect((await bodies)[0]!.text).toBe('No beads are ready.');
  });
});

describe('buttons', () => {
  it('Approve plan refuses without write access and does not approve', async () => {
    const t = await setup({ permission: 'triage' });

    const reply = await t.click(ACTION_APPROVE_PLAN, 'cv-9z8y');

    expect(reply.text).toContain('write access to acme/web');
    expect(reply.replace_original).toBe(false);
    expect(t.services.approve).not.toHaveBeenCalled();
  });

  it('Approve plan approves as the login', async () => {
    const t = await setup({ services: { approve: async (id) => convoy({ id, approved: true }) } });

    const reply = await t.click(ACTION_APPROVE_PLAN, 'cv-9z8y');

    expect(t.services.repoOf).toHaveBeenCalledWith({ convoy: 'cv-9z8y' });
    expect(t.services.approve).toHaveBeenCalledWith('cv-9z8y', 'ada');
    expect(reply).toMatchObject({ response_type: 'in_channel', text: 'Plan `cv-9z8y` approved by ada.' });
  });

  it('Stop convoy rejects a tampered value', async () => {
    const t = await setup();

    const reply = await t.click(ACTION_STOP_CONVOY, 'cv-9z8y; rm -rf');

    expect(reply.text).toContain('no valid convoy id');
    expect(t.services.stop).not.toHaveBeenCalled();
  });

  it('Re-sling bead re-slings as the login', async () => {
    const t = await setup({ services: { resling: async (bead) => ({ bead, polecat: 'slit', url: null }) } });

    const reply = await t.click(ACTION_RESLING_BEAD, 'gt-a1b2');

    expect(t.services.resling).toHaveBeenCalledWith('gt-a1b2', 'ada');
    expect(reply.text).toBe('`gt-a1b2` re-slung to *slit* by ada.');
  });

  it('Reply opens a modal; submitting it sends mail after the write check', async () => {
    const t = await setup({ services: { sendMail: async () => ({}) as any } });
    const target = { mail: 'm-1', to: 'nux', bead: 'gt-a1b2' };
    let opened: any;
    const api = nock(SLACK_API)
      .post('/api/views.open', (b) => ((opened = b), true))
      .reply(200, { ok: true, view: { id: 'V1' } })
      .post('/api/chat.postMessage', (b) => b.channel === ADA && String(b.text).includes('Reply sent to *nux*'))
      .reply(200, { ok: true, channel: 'D1', ts: '1.2' });
    const click = blockActionBody(ACTION_REPLY_MAIL, JSON.stringify(target));

    const clickRes = await post(t.server.url, click, signedHeaders(click));
    await waitFor(() => opened !== undefined);
    const view = JSON.parse(opened.view);
    const submission = fixtureJson<any>('view-submission.json');
    submission.user.id = ADA;
    submission.view.callback_id = view.callback_id;
    submission.view.private_metadata = view.private_metadata;
    submission.view.state.values = { [INPUT_REPLY_BLOCK]: { [INPUT_REPLY_TEXT]: { type: 'plain_text_input', value: ' on it ' } } };
    const submit = new URLSearchParams({ payload: JSON.stringify(submission) }).toString();
    const submitRes = await post(t.server.url, submit, signedHeaders(submit));
    await waitFor(() => api.isDone());

    expect(clickRes.status).toBe(200);
    expect(opened.trigger_id).toBe('12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3');
    expect(view.callback_id).toBe(VIEW_REPLY_MAIL);
    expect(submitRes.status).toBe(200);
    expect(t.permissions).toHaveBeenCalledWith('ada', 'acme/web');
    expect(t.services.sendMail).toHaveBeenCalledWith('ada', 'nux', 'on it');
  });
});
