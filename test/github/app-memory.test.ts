/**
 * What the app keeps between deliveries (src/github/app-memory.ts): the events its own labels
 * cause cost nothing, and a burst of automation events reads the repository config once.
 */
import nock from 'nock';
import { Probot } from 'probot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGastownApp } from '../../src/app.js';
import { AppMemory, CONFIG_TTL_MS } from '../../src/github/app-memory.js';
import { defaultRepoConfig } from '../../src/config/repo-config.js';
import { InMemoryTown } from '../support/in-memory-town.js';
import {
  API,
  INSTALLATION,
  R,
  TestOctokit,
  appDeps,
  fixture,
  mockPermission,
  mockTokenAndConfig,
  privateKey,
  requestLog,
  silentLog,
} from './harness.js';

async function oneProbot(): Promise<Probot> {
  const probot = new Probot({ appId: 1, privateKey, Octokit: TestOctokit, log: silentLog, secret: 'test-secret' });
  await probot.load(createGastownApp(appDeps(new InMemoryTown())), { cwd: process.cwd(), addHandler: () => undefined });
  return probot;
}

function labeledBy(login: string, type: 'User' | 'Bot', label = 'gastown:bead'): any {
  const payload = fixture('issues.labeled');
  payload.sender = { ...payload.sender, login, type };
  payload.label = { ...payload.label, name: label };
  return payload;
}

function polecatPullClosed(): any {
  const payload = fixture('pull_request.closed');
  payload.pull_request.head.ref = 'polecat/nux/gt-1a2b';
  return payload;
}

describe('what the app remembers between deliveries', () => {
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('drops the labels it put itself before reading anything, asking GitHub who it is once', async () => {
    const scope = nock(API);
    const log = requestLog(scope);
    scope.get('/app').reply(200, { id: 1, slug: 'gastown', name: 'Gas Town' });
    const probot = await oneProbot();

    await probot.receive({ name: 'issues', id: 'own-1', payload: labeledBy('gastown[bot]', 'Bot') });
    await probot.receive({ name: 'issues', id: 'own-2', payload: labeledBy('gastown[bot]', 'Bot', 'gastown:ready') });

    expect(scope.pendingMocks()).toEqual([]);
    expect(log).toEqual(['GET /app']);
  });

  it("another bot's label and a person's label are read as before (a person's costs no GET /app)", async () => {
    const scope = nock(API);
    const log = requestLog(scope);
    scope.get('/app').reply(200, { id: 1, slug: 'gastown', name: 'Gas Town' });
    mockTokenAndConfig(scope);
    scope.get(`${R}/contents/.github%2Fgastown.yml`).reply(404, { message: 'Not Found' });
    scope.get('/repos/Codertocat/.github/contents/.github%2Fgastown.yml').reply(404, { message: 'Not Found' });
    const probot = await oneProbot();

    await probot.receive({ name: 'issues', id: 'bot', payload: labeledBy('renovate[bot]', 'Bot') });
    await probot.receive({ name: 'issues', id: 'person', payload: labeledBy('Codertocat', 'User') });

    expect(scope.pendingMocks()).toEqual([]);
    expect(log.filter((l) => l.includes('gastown.yml'))).toHaveLength(4);
    expect(log.filter((l) => l === 'GET /app')).toHaveLength(1);
  });

  it("a burst of pull request events reads the config once; a person's label reads it afresh", async () => {
    const scope = nock(API);
    const log = requestLog(scope);
    mockTokenAndConfig(scope, 'planner: checklist\n');
    const probot = await oneProbot();

    await probot.receive({ name: 'pull_request', id: 'pr-1', payload: polecatPullClosed() });
    await probot.receive({ name: 'pull_request', id: 'pr-2', payload: polecatPullClosed() });
    expect(scope.pendingMocks()).toEqual([]);

    scope.get(`${R}/contents/.github%2Fgastown.yml`).reply(200, 'planner: checklist\n', { 'content-type': 'text/plain; charset=utf-8' });
    mockPermission(scope, 'Codertocat', 'read');
    scope.post(`${R}/issues/1/comments`).reply(201, { id: 5 });
    scope.delete(`${R}/issues/1/labels/gastown%3Amayor`).reply(200, []);
    await probot.receive({ name: 'issues', id: 'label', payload: labeledBy('Codertocat', 'User', 'gastown:mayor') });

    expect(scope.pendingMocks()).toEqual([]);
    expect(log.filter((l) => l.includes('gastown.yml'))).toHaveLength(2);
  });
});

describe('AppMemory', () => {
  it('keeps a config for the TTL, per installation and repository', () => {
    let now = 1_000_000;
    const memory = new AppMemory({ appSlug: async () => 'gastown', now: () => now });
    const config = defaultRepoConfig();

    memory.rememberConfig(INSTALLATION, 'Codertocat', 'Hello-World', config);

    expect(memory.config(INSTALLATION, 'codertocat', 'hello-world')).toBe(config);
    expect(memory.config(INSTALLATION + 1, 'Codertocat', 'Hello-World')).toBeUndefined();
    now += CONFIG_TTL_MS;
    expect(memory.config(INSTALLATION, 'Codertocat', 'Hello-World')).toBeUndefined();
  });

  it('asks for its login once, and again after a failure', async () => {
    let asked = 0;
    let fail = true;
    const memory = new AppMemory({
      appSlug: async () => {
        asked++;
        if (fail) throw new Error('offline');
        return 'gastown';
      },
    });

    expect(await memory.ownLogin()).toBeNull();
    fail = false;
    expect(await memory.isOwnEvent({ login: 'gastown[bot]', type: 'Bot' })).toBe(true);
    expect(await memory.isOwnEvent({ login: 'gastown[bot]', type: 'User' })).toBe(false);
    expect(await memory.isOwnEvent({ login: 'other[bot]', type: 'Bot' })).toBe(false);
    expect(asked).toBe(2);
  });
});
