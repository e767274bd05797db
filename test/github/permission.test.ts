import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getPermission } from '../../src/forge/github-permission.js';
import { hasWrite } from '../../src/town/permissions.js';
import { API, R, TestOctokit } from './harness.js';

describe('getPermission / hasWrite', () => {
  beforeEach(() => {
    nock.disableNetConnect();
  });
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('prefers role_name, falls back to permission for custom roles, and maps 404 to none', async () => {
    const scope = nock(API)
      .get(`${R}/collaborators/mia/permission`)
      .reply(200, { permission: 'write', role_name: 'maintain' })
      .get(`${R}/collaborators/cy/permission`)
      .reply(200, { permission: 'write', role_name: 'release-manager' })
      .get(`${R}/collaborators/tri/permission`)
      .reply(200, { permission: 'read', role_name: 'triage' })
      .get(`${R}/collaborators/stranger/permission`)
      .reply(404, { message: 'Not Found' });
    const octokit = new TestOctokit({ auth: 'ghs_test' });

    const levels = await Promise.all(['mia', 'cy', 'tri', 'stranger'].map((u) => getPermission(octokit, 'Codertocat', 'Hello-World', u)));

    expect(scope.pendingMocks()).toEqual([]);
    expect(levels).toEqual(['maintain', 'write', 'triage', 'none']);
    expect(levels.map(hasWrite)).toEqual([true, true, false, false]);
    expect(hasWrite('admin')).toBe(true);
    expect(hasWrite('read')).toBe(false);
  });
});
