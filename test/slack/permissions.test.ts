import { webApi } from '@slack/bolt';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isGastownError } from '../../src/errors.js';
import { createIdentityResolver, requireLogin } from '../../src/slack/permissions.js';
import { requireWrite, type RepoPermission } from '../../src/town/permissions.js';
import { fixtureJson, SLACK_API } from './helpers.js';

const client = new webApi.WebClient('xoxb-test-token', { slackApiUrl: `${SLACK_API}/api/`, retryConfig: { retries: 0 } });

function usersInfo(over: Record<string, unknown> = {}, profile: Record<string, unknown> = {}) {
  const res = fixtureJson<any>('users-info.json');
  Object.assign(res.user, over);
  Object.assign(res.user.profile, profile);
  return res;
}

beforeAll(() => {
  nock.disableNetConnect();
});

afterAll(() => {
  nock.enableNetConnect();
});

afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe('createIdentityResolver', () => {
  it('prefers the configured user map and calls no API', async () => {
    const identity = createIdentityResolver({
      client,
      userMap: { W012A3CDE: 'egon' },
      emailMap: { 'spengler@ghostbusters.example.com': 'other' },
    });

    expect(await identity.loginFor('W012A3CDE')).toBe('egon');
    expect(await identity.slackUserFor('EGON')).toBe('W012A3CDE');
  });

  it('maps a confirmed email from users.info, any case, and caches it', async () => {
    nock(SLACK_API)
      .post('/api/users.info', (b) => b.user === 'W012A3CDE')
      .once()
      .reply(200, usersInfo());
    const identity = createIdentityResolver({ client, emailMap: { 'Spengler@Ghostbusters.example.com': 'egon' } });

    expect(await identity.loginFor('W012A3CDE')).toBe('egon');
    expect(await identity.loginFor('W012A3CDE')).toBe('egon');
  });

  it('asks again once the cache expires', async () => {
    nock(SLACK_API).post('/api/users.info').twice().reply(200, usersInfo());
    let now = 0;
    const identity = createIdentityResolver({
      client,
      emailMap: { 'spengler@ghostbusters.example.com': 'egon' },
      cacheTtlMs: 1000,
      now: () => now,
    });

    await identity.loginFor('W012A3CDE');
    now = 1001;
    expect(await identity.loginFor('W012A3CDE')).toBe('egon');
  });

  it.each([
    ['an unconfirmed email', { is_email_confirmed: false }, {}],
    ['a deleted user', { deleted: true }, {}],
    ['a bot', { is_bot: true }, {}],
    ['an unmapped email', {}, { email: 'venkman@ghostbusters.example.com' }],
    ['no email at all', {}, { email: undefined }],
  ])('does not link %s', async (_name, over, profile) => {
    nock(SLACK_API).post('/api/users.info').reply(200, usersInfo(over, profile));
    const identity = createIdentityResolver({ client, emailMap: { 'spengler@ghostbusters.example.com': 'egon' } });

    expect(await identity.loginFor('W012A3CDE')).toBeNull();
  });

  it('does not call Slack when there is no email map', async () => {
    const identity = createIdentityResolver({ client });

    expect(await identity.loginFor('W012A3CDE')).toBeNull();
  });

  it('finds the Slack user of a login through its mapped email', async () => {
    nock(SLACK_API)
      .post('/api/users.lookupByEmail', (b) => b.email === 'spengler@ghostbusters.example.com')
      .reply(200, usersInfo())
      .post('/api/users.lookupByEmail')
      .reply(200, { ok: false, error: 'users_not_found' });
    const identity = createIdentityResolver({
      client,
      emailMap: { 'spengler@ghostbusters.example.com': 'egon', 'ray@ghostbusters.example.com': 'ray' },
    });

    expect(await identity.slackUserFor('egon')).toBe('W012A3CDE');
    expect(await identity.slackUserFor('ray')).toBeNull();
    expect(await identity.slackUserFor('nobody')).toBeNull();
  });
});

describe('requireWrite', () => {
  it.each<RepoPermission>(['admin', 'maintain', 'write'])('lets %s through', async (level) => {
    await expect(requireWrite(async () => level, 'ada', 'acme/web', 'sling gt-a1b2')).resolves.toBeUndefined();
  });

  it.each<[RepoPermission, string]>([
    ['triage', 'ada has only triage access'],
    ['read', 'ada has only read access'],
    ['none', 'ada has no access'],
  ])('refuses %s and says why', async (level, why) => {
    const err = await requireWrite(async () => level, 'ada', 'acme/web', 'approve cv-1').catch((e: unknown) => e);

    expect(isGastownError(err, 'gastown_forbidden')).toBe(true);
    expect((err as Error).message).toBe(`Only people with write access to acme/web can approve cv-1; ${why}.`);
  });

  it('asks about the exact login and repo', async () => {
    const asked: string[] = [];

    await requireWrite(async (login, repo) => (asked.push(`${login}@${repo}`), 'write'), 'ada', 'acme/web', 'x');

    expect(asked).toEqual(['ada@acme/web']);
  });
});

describe('requireLogin', () => {
  it('returns the login or refuses with how to get linked', async () => {
    const identity = { loginFor: async (u: string) => (u === 'U1' ? 'ada' : null), slackUserFor: async () => null };

    expect(await requireLogin(identity, 'U1')).toBe('ada');
    await expect(requireLogin(identity, 'U2')).rejects.toThrow(/SLACK_USER_MAP/);
  });
});
