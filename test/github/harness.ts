/** Probot under test: a generated key, no retries or throttling, strict nock for GitHub. */
import { readFileSync } from 'node:fs';
import nock from 'nock';
import { Probot } from 'probot';
import { API, privateKey, silentLog, TestOctokit } from '../helpers/probot-test.js';
import { createGastownApp } from '../../src/app.js';
import type { AppDeps, RepoServices } from '../../src/github/app-deps.js';

export const OWNER = 'Codertocat';
export const REPO = 'Hello-World';
export const INSTALLATION = 4242;
export { API };
export const R = `/repos/${OWNER}/${REPO}`;

export { privateKey, silentLog, TestOctokit };

/** App deps over a repository's services (tests pass the in-memory town, test/support/in-memory-town.ts). */
export function appDeps(services: RepoServices): AppDeps {
  return { withRepo: (_scope, fn) => fn(services), defaultModel: 'claude-sonnet-4-6', version: '0.1.0-test' };
}

/** A fresh Probot per delivery, so each one asks for its own installation token. */
export async function newProbot(deps: AppDeps): Promise<Probot> {
  const probot = new Probot({ appId: 1, privateKey, Octokit: TestOctokit, log: silentLog, secret: 'test-secret' });
  // No HTTP server here: webhook handlers only (routes are tested in server.test.ts).
  await probot.load(createGastownApp(deps), { cwd: process.cwd(), addHandler: () => undefined });
  return probot;
}

export function fixture<T = any>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/github/${name}.json`, import.meta.url), 'utf8')) as T;
}

/** Records every request nock answers, as `METHOD path`, to count them. */
export function requestLog(scope: nock.Scope): string[] {
  const log: string[] = [];
  scope.on('request', (req: { method: string; path: string }) => log.push(`${req.method} ${decodeURIComponent(req.path)}`));
  return log;
}

/** Token, then the config lookups (the repo's file, then the owner's `.github` repo). */
export function mockTokenAndConfig(scope: nock.Scope, configYaml: string | null = null): nock.Scope {
  scope.post(`/app/installations/${INSTALLATION}/access_tokens`).reply(201, { token: 'ghs_test', permissions: { issues: 'write' } });
  if (configYaml !== null) {
    scope.get(`${R}/contents/.github%2Fgastown.yml`).reply(200, configYaml, { 'content-type': 'text/plain; charset=utf-8' });
  } else {
    scope.get(`${R}/contents/.github%2Fgastown.yml`).reply(404, { message: 'Not Found' });
    scope.get(`/repos/${OWNER}/.github/contents/.github%2Fgastown.yml`).reply(404, { message: 'Not Found' });
  }
  return scope;
}

export function mockPermission(scope: nock.Scope, login: string, permission: string): nock.Scope {
  return scope
    .get(`${R}/collaborators/${login}/permission`)
    .reply(200, { permission: permission === 'maintain' ? 'write' : permission, role_name: permission, user: { login } });
}

/** A comment as the context query lists it (`fullDatabaseId` is the REST id, as a string). */
export interface ContextComment {
  id: number;
  body: string;
  login?: string;
  bot?: boolean;
  /** GitHub's `authorAssociation` (default COLLABORATOR: the comment's author then costs a permission lookup). */
  association?: string;
}

/** The context query's answer: GitHub's `{ data: { repository } }` for #1 with a README and `src/`. */
export function contextResponse(opts: { comments?: ContextComment[]; hasNextPage?: boolean } = {}): Record<string, unknown> {
  return {
    data: {
      repository: {
        issue: {
          comments: {
            pageInfo: { hasNextPage: opts.hasNextPage ?? false },
            nodes: (opts.comments ?? []).map((c) => ({
              databaseId: c.id,
              fullDatabaseId: String(c.id),
              body: c.body,
              authorAssociation: c.association ?? 'COLLABORATOR',
              author: { login: c.login ?? (c.bot ? 'gastown' : 'octocat'), __typename: c.bot ? 'Bot' : 'User' },
            })),
          },
        },
        tree: {
          entries: [
            { name: 'README.md', type: 'blob', mode: 33188 },
            { name: 'src', type: 'tree', mode: 16384 },
          ],
        },
        readme: { text: '# Hello World\n<!-- hidden -->Visible.' },
        agents: null,
        contributing: null,
      },
    },
  };
}

/** The Mayor's context: one GraphQL query (comments of #1, top-level tree, README). */
export function mockContext(scope: nock.Scope, opts: { comments?: ContextComment[]; hasNextPage?: boolean } = {}): nock.Scope {
  return scope
    .post(
      '/graphql',
      (body: any) =>
        /repository\(owner: \$owner, name: \$repo\)/.test(body.query) &&
        body.variables?.owner === OWNER &&
        body.variables?.repo === REPO &&
        body.variables?.number === 1,
    )
    .reply(200, contextResponse(opts));
}
