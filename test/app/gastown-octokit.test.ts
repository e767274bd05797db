import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GastownOctokit } from '../../src/app.js';
import { silentLog } from '../helpers/probot-test.js';

const SECONDARY = {
  message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
  documentation_url: 'https://docs.github.com/rest',
};

describe("the app's Octokit (npm start)", () => {
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('waits out a secondary rate limit and tries again, twice at most', async () => {
    const gh = nock('https://api.github.com')
      .post('/repos/o/r/issues')
      .reply(403, SECONDARY, { 'retry-after': '1' })
      .post('/repos/o/r/issues')
      .reply(201, { number: 2 })
      .post('/repos/o/r/issues')
      .times(3)
      .reply(403, SECONDARY, { 'retry-after': '1' });
    const octokit = new GastownOctokit({ auth: 'ghs_x', log: silentLog as any, retry: { enabled: false } });

    const created = await octokit.rest.issues.create({ owner: 'o', repo: 'r', title: 't' });
    const refused = await octokit.rest.issues.create({ owner: 'o', repo: 'r', title: 't' }).catch((e: { status: number }) => e);

    expect(created.status).toBe(201);
    expect((refused as { status: number }).status).toBe(403);
    expect(gh.pendingMocks()).toEqual([]);
  }, 30_000);
});
