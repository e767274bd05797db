/**
 * The end-to-end GitHub tests on the real ledger mirror: a temp dir with the app's data dir
 * and one bare "GitHub" repository reached through a file:// GASTOWN_GIT_URL template, the
 * Anthropic Messages API and GitHub's REST and GraphQL APIs under strict nock, and a fake of
 * the GitHub issues the app created (so later listings return what it wrote).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { createAppDeps } from '../../src/github/app-deps.js';
import type { AppDeps } from '../../src/github/app-deps.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { Rig } from '../../src/rig/rig.js';
import type { Bead, Convoy, Plan } from '../../src/town/types.js';
import { tempDir } from '../helpers/temp-repo.js';
import { GraphqlIssues } from './graphql-issues.js';
import { OWNER, R, REPO, fixture } from './harness.js';
import { TOWN_KINDS } from '../../src/rig/town-kinds.js';

// runGit passes process.env to git: keep the developer's settings out.
process.env.GIT_CONFIG_GLOBAL = '/dev/null';
process.env.GIT_CONFIG_NOSYSTEM = '1';

export const ANTHROPIC = 'https://api.anthropic.com';
export const WORKFLOW_PATH = `${R}/actions/workflows/gastown-polecat.yml/dispatches`;

export interface Town {
  root: string;
  /** The bare repository standing in for github.com/Codertocat/Hello-World. */
  remote: string;
  deps: AppDeps;
  cleanup(): Promise<void>;
}

export function newTown(env: Record<string, string> = {}): Town {
  const dir = tempDir('gastown-gh');
  const remote = join(dir.path, 'github', OWNER, `${REPO}.git`);
  mkdirSync(remote, { recursive: true });
  execFileSync('git', ['init', '-q', '--bare', remote], { env: process.env });
  const deps = createAppDeps({
    GASTOWN_DATA_DIR: join(dir.path, 'data'),
    GASTOWN_GIT_URL: `file://${dir.path}/github/{owner}/{repo}.git`,
    ANTHROPIC_API_KEY: 'sk-ant-test-key',
    // The "runner" here writes in the remote repository itself (runnerRig), which moves no
    // sync summary, as a real runner's push does: every mirror sync compares every ref.
    GASTOWN_SYNC_FULL_EVERY_MS: '0',
    ...env,
  });
  // These flows count GitHub's requests exactly; the default branch's protection check on the
  // status comment has its own tests (branch-protection.test.ts, the e2e loop).
  delete deps.branchProtection;
  return {
    root: dir.path,
    remote,
    deps,
    cleanup: async () => {
      await deps.close?.();
      dir.cleanup();
    },
  };
}

/** The Messages API response (a real one's shape) whose submit_plan tool call holds `plan`. */
export function anthropicPlanResponse(plan: Plan): Record<string, unknown> {
  const response = JSON.parse(readFileSync(new URL('../fixtures/anthropic/plan-valid.json', import.meta.url), 'utf8'));
  response.content[0].input = plan;
  return response;
}

export function mockAnthropic(plan: Plan): nock.Scope {
  return nock(ANTHROPIC)
    .post('/v1/messages', (body: any) => body.tool_choice?.name === 'submit_plan' && body.messages?.length === 1)
    .reply(200, anthropicPlanResponse(plan));
}

/** Convoy ref names in the bare remote, read synchronously (usable inside a nock reply). */
export function remoteConvoyRefs(remote: string): string[] {
  return execFileSync('git', ['--git-dir', remote, 'for-each-ref', '--format=%(refname)', 'refs/gastown/convoys/'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}

/** Reads the remote's ledger with a second, independent Ledger. */
export async function readRemote(remote: string): Promise<{ convoys: Convoy[]; beads: Bead[]; feed: { type: string; message: string }[] }> {
  const ledger = await Ledger.open({ kinds: TOWN_KINDS, repoDir: remote });
  try {
    const convoys = (await ledger.list<Convoy>('convoys')).map((c) => c.value).sort((x, y) => x.id.localeCompare(y.id));
    const beads = (await ledger.list<Bead>('beads')).map((b) => b.value).sort((x, y) => x.id.localeCompare(y.id));
    const feed = (await ledger.readChain<{ type: string; message: string }>('feed', null)).map((e) => e.value);
    return { convoys, beads, feed };
  } finally {
    ledger.close();
  }
}

/** A runner elsewhere (a workflow run) working straight on the remote ledger. */
export async function runnerRig(remote: string): Promise<Rig> {
  return Rig.open({ repoDir: remote, actor: 'gha-runner', allowUninitialised: true });
}

/** GitHub's issues as the app created them, so later listings return what it wrote. */
export class FakeIssues extends GraphqlIssues {
  statusBody = '';

  /** The node-id lookup, the child issues in one batch and the edges in another. */
  mockMaterialise(scope: nock.Scope, opts: { check?: (titles: string[]) => void; refuse?: string[]; edges?: boolean } = {}): void {
    this.mockTargets(scope);
    this.mockCreateIssues(scope, opts);
    if (opts.edges !== false) this.mockBlockedBy(scope);
  }

  /** The sub-issue listing of #1 as GitHub would give it now. */
  listing(blockedBy: Record<number, number> = {}): unknown[] {
    return this.created.map((c) => ({
      id: c.id,
      node_id: `I_${c.number}`,
      number: c.number,
      html_url: `https://github.com/${OWNER}/${REPO}/issues/${c.number}`,
      title: c.title,
      body: c.body,
      issue_dependencies_summary: {
        blocked_by: blockedBy[c.number] ?? 0,
        blocking: 0,
        total_blocked_by: blockedBy[c.number] ?? 0,
        total_blocking: 0,
      },
    }));
  }

  /**
   * A new status comment (777) on #1, in a delivery whose context query listed #1's comments
   * (so the app does not list them again).
   */
  mockNewStatus(scope: nock.Scope): void {
    scope.post(`${R}/issues/1/comments`).reply(201, (_u, body: any) => {
      this.statusBody = body.body;
      return { id: 777, body: body.body };
    });
  }

  /** The status comment read back and edited. */
  mockEditStatus(scope: nock.Scope): void {
    scope.get(`${R}/issues/comments/777`).reply(200, () => ({ id: 777, body: this.statusBody }));
    scope.patch(`${R}/issues/comments/777`).reply(200, (_u, body: any) => {
      this.statusBody = body.body;
      return { id: 777, body: body.body };
    });
  }
}

/** Records each workflow_dispatch's `bead` input. */
export function mockDispatch(scope: nock.Scope, into: string[], times = 1): void {
  scope
    .post(WORKFLOW_PATH, (b) => b.ref === 'master' && typeof b.inputs?.bead === 'string')
    .times(times)
    .reply(204, (_u, body: any) => {
      into.push(body.inputs.bead);
      return '';
    });
}

export function closedPullRequest(opts: { number: number; branch: string; merged: boolean }): any {
  const payload = fixture('pull_request.closed');
  payload.number = opts.number;
  payload.pull_request.number = opts.number;
  payload.pull_request.html_url = `https://github.com/${OWNER}/${REPO}/pull/${opts.number}`;
  payload.pull_request.merged = opts.merged;
  payload.pull_request.head.ref = opts.branch;
  payload.pull_request.body = `Closes #${opts.number}`;
  return payload;
}
