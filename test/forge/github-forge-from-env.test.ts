import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { githubApiUrl, githubForgeFromEnv } from '../../src/forge/github-forge-from-env.js';

const ENV = { GITHUB_TOKEN: 'ghs_job', GITHUB_REPOSITORY: 'o/r' };

describe('the GitHub forge of an Actions job', () => {
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('calls the API the job was given (GITHUB_API_URL), with the job token', async () => {
    const ghe = nock('http://ghe.test:8080', { reqheaders: { authorization: 'token ghs_job' } })
      .get('/api/v3/repos/o/r/pulls')
      .query(true)
      .reply(200, [])
      .post('/api/v3/repos/o/r/pulls')
      .reply(201, { number: 7, id: 70, html_url: 'http://ghe.test:8080/o/r/pull/7' });
    const forge = githubForgeFromEnv({ ...ENV, GITHUB_API_URL: 'http://ghe.test:8080/api/v3/' });

    const pr = await forge.openPullRequest({ head: 'polecat/nux/gt-abc', base: 'main', title: 't', body: 'b', draft: false });

    expect(pr).toEqual({ number: 7, id: 70, url: 'http://ghe.test:8080/o/r/pull/7' });
    expect(ghe.pendingMocks()).toEqual([]);
  });

  it("defaults to github.com's API and refuses a GITHUB_API_URL that is not a URL", () => {
    expect(githubApiUrl({})).toBe('https://api.github.com');
    expect(() => githubApiUrl({ GITHUB_API_URL: 'ghe.test' })).toThrow(/GITHUB_API_URL must be an http\(s\) URL/);
    expect(() => githubForgeFromEnv({ GITHUB_TOKEN: 't' })).toThrow(/needs GITHUB_TOKEN and GITHUB_REPOSITORY/);
  });
});
