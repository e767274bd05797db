/**
 * A polecat that pushed with the workflow's GITHUB_TOKEN says so on its pull request: GitHub
 * starts no CI for it. The note rides on the real GitHub adapter (nock at GitHub's API).
 */
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitHubForge } from '../../src/forge/github-forge.js';
import { fallbackTokenNote, withPullRequestNote } from '../../src/forge/pull-request-note.js';
import { API, R, TestOctokit } from '../github/harness.js';

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('withPullRequestNote', () => {
  it('adds the note to a new pull request and leaves every other call to the adapter', async () => {
    const inner = new GitHubForge({ octokit: new TestOctokit({ auth: 'ghs_test' }), owner: 'Codertocat', repo: 'Hello-World' });
    const forge = withPullRequestNote(inner, (pr) =>
      fallbackTokenNote(pr, 'the Gas Town app refused the token exchange (HTTP 403): run 9 is over <b>@ada</b>'),
    );
    let body = '';
    const scope = nock(API)
      .get(`${R}/pulls`)
      .query({ head: 'Codertocat:polecat/nux/gt-1a2b', state: 'open' })
      .reply(200, [])
      .post(`${R}/pulls`)
      .reply(201, (_uri, req: any) => {
        body = req.body;
        return { number: 7, id: 70, html_url: 'https://github.com/Codertocat/Hello-World/pull/7' };
      })
      .post(`${R}/actions/workflows/gastown-polecat.yml/dispatches`)
      .reply(204);

    const pr = await forge.openPullRequest({ head: 'polecat/nux/gt-1a2b', base: 'main', title: 'Add it', body: 'Closes #2', draft: false });
    await forge.dispatchWorkflow({ workflow: 'gastown-polecat.yml', ref: 'main', inputs: { bead: 'gt-1a2b' } });

    expect(pr).toEqual({ number: 7, id: 70, url: 'https://github.com/Codertocat/Hello-World/pull/7' });
    expect(body.startsWith('Closes #2\n\n> [!WARNING]\n')).toBe(true);
    expect(body).toContain(
      "opened with the workflow's `GITHUB_TOKEN` (no scoped token from the Gas Town app: the Gas Town app refused the token exchange (HTTP 403): run 9 is over &lt;b&gt;`@ada`&lt;/b&gt;)",
    );
    expect(body).toContain('push a commit to `polecat/nux/gt-1a2b`, or close and reopen this pull request, to run the checks.');
    expect(scope.pendingMocks()).toEqual([]);
  });
});
