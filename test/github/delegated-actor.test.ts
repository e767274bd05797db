import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { delegatedActor } from '../../src/github/delegated-actor.js';
import { onBehalfOfMarker } from '../../src/town/ids.js';
import { InMemoryTown } from '../support/in-memory-town.js';
import { API, R, appDeps, fixture, mockPermission, mockTokenAndConfig, newProbot } from './harness.js';

const APP_ID = 1; // the id the harness's Probot runs as

describe('delegatedActor', () => {
  it('names the person only for objects GitHub attests this app made', () => {
    const body = `Please plan this\n${onBehalfOfMarker('ada')}`;
    expect(delegatedActor({ body, performed_via_github_app: { id: APP_ID } }, APP_ID)).toBe('ada');
    expect(delegatedActor({ body, performed_via_github_app: { id: 999 } }, APP_ID)).toBeNull(); // another app
    expect(delegatedActor({ body, performed_via_github_app: null }, APP_ID)).toBeNull(); // typed by a person
    expect(delegatedActor({ body: 'no marker', performed_via_github_app: { id: APP_ID } }, APP_ID)).toBeNull();
    expect(delegatedActor({ body, performed_via_github_app: { id: APP_ID } }, null)).toBeNull(); // app id unknown
    expect(
      delegatedActor({ body: '<!-- gastown:on-behalf-of bad login! -->', performed_via_github_app: { id: APP_ID } }, APP_ID),
    ).toBeNull();
  });
});

describe('requests the app makes for a Slack user', () => {
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  function labeledByApp(opts: { attested: boolean; onBehalfOf: string }) {
    const payload = fixture('issues.labeled');
    payload.sender = { ...payload.sender, login: 'gastown[bot]', type: 'Bot' };
    payload.issue.body = `Add a health check\n\n${onBehalfOfMarker(opts.onBehalfOf)}`;
    payload.issue.performed_via_github_app = opts.attested ? { id: APP_ID, slug: 'gastown' } : null;
    return payload;
  }

  it('a goal issue the app opened is planned as the person it names (whose permission is checked)', async () => {
    const deps = new InMemoryTown();
    const scope = nock(API);
    mockTokenAndConfig(scope);
    mockPermission(scope, 'ada', 'read');
    let reply = '';
    scope.post(`${R}/issues/1/comments`).reply(201, (_u, body: any) => {
      reply = body.body;
      return { id: 5 };
    });
    scope.delete(`${R}/issues/1/labels/gastown%3Amayor`).reply(200, []);

    await (await newProbot({ ...appDeps(deps), appId: APP_ID })).receive({
      name: 'issues',
      id: 'g1',
      payload: labeledByApp({ attested: true, onBehalfOf: 'ada' }) as any,
    });

    expect(scope.pendingMocks()).toEqual([]);
    expect(reply).toMatch(/@ada/);
    expect(deps.calls).toEqual([]);
  });

  it('a marker GitHub does not attest is ignored: the sender is who acts', async () => {
    const deps = new InMemoryTown();
    const scope = nock(API);
    mockTokenAndConfig(scope);
    // Asked about the bot itself, not the maintainer the forged marker names.
    scope
      .get(`${R}/collaborators/gastown%5Bbot%5D/permission`)
      .reply(200, { permission: 'read', role_name: 'read', user: { login: 'gastown[bot]' } });
    scope.post(`${R}/issues/1/comments`).reply(201, { id: 5 });
    scope.delete(`${R}/issues/1/labels/gastown%3Amayor`).reply(200, []);

    await (await newProbot({ ...appDeps(deps), appId: APP_ID })).receive({
      name: 'issues',
      id: 'g2',
      payload: labeledByApp({ attested: false, onBehalfOf: 'maintainer' }) as any,
    });

    expect(scope.pendingMocks()).toEqual([]);
    expect(deps.calls).toEqual([]);
  });

  function commentByApp(body: string, attested: boolean) {
    const payload = fixture('issue_comment.created');
    payload.comment.body = body;
    payload.comment.user = { ...payload.comment.user, login: 'gastown[bot]', type: 'Bot' };
    payload.comment.performed_via_github_app = attested ? { id: APP_ID, slug: 'gastown' } : null;
    payload.sender = { ...payload.sender, login: 'gastown[bot]', type: 'Bot' };
    return payload;
  }

  it('a `/gt approve` the app posted for a Slack user is run as that user', async () => {
    const deps = new InMemoryTown();
    const scope = nock(API);
    mockTokenAndConfig(scope);
    mockPermission(scope, 'ada', 'read');
    let reply = '';
    scope.post(`${R}/issues/1/comments`).reply(201, (_u, body: any) => {
      reply = body.body;
      return { id: 6 };
    });

    const probot = await newProbot({ ...appDeps(deps), appId: APP_ID });
    await probot.receive({
      name: 'issue_comment',
      id: 'c1',
      payload: commentByApp(`/gt approve\n\n${onBehalfOfMarker('ada')}`, true) as any,
    });

    expect(scope.pendingMocks()).toEqual([]);
    expect(reply).toBe('Sorry @ada, only people with write access to this repository can approve a plan.');
  });

  it('any other bot comment is ignored without a single request', async () => {
    const deps = new InMemoryTown();
    const scope = nock(API);

    const probot = await newProbot({ ...appDeps(deps), appId: APP_ID });
    await probot.receive({
      name: 'issue_comment',
      id: 'c2',
      payload: commentByApp(`/gt approve\n\n${onBehalfOfMarker('ada')}`, false) as any,
    });

    expect(scope.pendingMocks()).toEqual([]);
    expect(scope.isDone()).toBe(true);
    expect(deps.calls).toEqual([]);
  });
});
