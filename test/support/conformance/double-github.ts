/**
 * The GitHub double (test/support/github-double) started for a conformance suite, with
 * Probot pointed at it as a GitHub Enterprise Server (real HTTP on 127.0.0.1, a real JWT
 * and installation token), and the double seen as the `ForgeHost` the forge suite reads.
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { basename } from 'node:path';
import { Probot } from 'probot';
import { privateKey, silentLog, TestOctokit } from '../../helpers/probot-test.js';
import { tempDir } from '../../helpers/temp-repo.js';
import { DOUBLE_GIT_ENV } from '../github-double/bare-repo.js';
import { GitHubDouble } from '../github-double/github-double.js';
import type { Permission } from '../github-double/github-state.js';
import type { ForgeHost } from './forge-port-suite.js';

export const APP_ID = 7331;

export const NOOP_WORKFLOW = `name: noop
on:
  workflow_dispatch:
    inputs:
      bead:
        required: true
jobs:
  work:
    runs-on: ubuntu-latest
    steps:
      - run: "true"
`;

export interface DoubleGitHub {
  double: GitHubDouble;
  probot: Probot;
  owner: string;
  repo: string;
  /** The installation's Octokit (an access token the double issued). */
  installation(): Promise<Awaited<ReturnType<Probot['auth']>>>;
  host: ForgeHost;
  stop(): Promise<void>;
}

export async function startDoubleGitHub(
  opts: { owner?: string; repo?: string; files?: Record<string, string>; collaborators?: Record<string, Permission> } = {},
): Promise<DoubleGitHub> {
  const owner = opts.owner ?? 'acme';
  const repo = opts.repo ?? 'web';
  const dir = tempDir('conformance-gh');
  const double = await GitHubDouble.start({
    owner,
    repo,
    dir: dir.path,
    files: { 'README.md': '# web\n', '.github/workflows/noop.yml': NOOP_WORKFLOW, ...opts.files },
    webhookSecret: 'conformance-secret',
    appId: APP_ID,
    appPublicKey: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString(),
    collaborators: opts.collaborators ?? {},
    gtBin: '/bin/false',
  });
  const probot = new Probot({ appId: APP_ID, privateKey, Octokit: TestOctokit, log: silentLog, baseUrl: double.apiUrl });
  const person = double.state.user('octocat');
  const bare = (args: string[]) => execFileSync('git', args, { cwd: double.repo.path, env: DOUBLE_GIT_ENV, encoding: 'utf8' }).trim();

  const host: ForgeHost = {
    async openIssue(title, labels = []) {
      const issue = double.state.createIssue(person, { title, body: 'A goal.', labels });
      return { number: issue.number, id: issue.id, url: `${double.webUrl}/${owner}/${repo}/issues/${issue.number}` };
    },
    editTitle(n, title) {
      double.state.issues.get(n)!.title = title;
    },
    async pushBranch(name) {
      const commit = bare(['commit-tree', 'main^{tree}', '-p', 'main', '-m', `work on ${name}`]);
      bare(['update-ref', `refs/heads/${name}`, commit]);
    },
    issue(n) {
      const i = double.state.issues.get(n);
      if (!i) return null;
      return {
        title: i.title,
        state: i.state,
        stateReason: i.stateReason,
        labels: [...i.labels],
        subIssues: [...i.subIssues],
        blockedBy: [...i.blockedBy],
      };
    },
    issuesMarked(beadId) {
      return [...double.state.issues.values()].filter((i) => i.body?.includes(`<!-- gastown:bead ${beadId} -->`)).map((i) => i.number);
    },
    comments(n) {
      return [...double.state.comments.values()]
        .filter((c) => c.issue === n)
        .sort((a, b) => a.id - b.id)
        .map((c) => ({ id: c.id, body: c.body }));
    },
    commentEdits(id) {
      return double.requests.filter(
        (r) => r.method === 'PATCH' && r.status === 200 && r.path === `/repos/${owner}/${repo}/issues/comments/${id}`,
      ).length;
    },
    openPullRequests(head) {
      return [...double.state.pulls.values()].filter((p) => p.state === 'open' && p.head === head).map((p) => p.number);
    },
    runs() {
      return [...double.state.runs.values()]
        .sort((a, b) => a.id - b.id)
        .map((r) => ({ workflow: basename(r.path), ref: r.headBranch, inputs: { ...r.inputs } }));
    },
  };

  return {
    double,
    probot,
    owner,
    repo,
    installation: () => probot.auth(double.installationId),
    host,
    async stop() {
      await double.idle();
      await double.stop();
      dir.cleanup();
    },
  };
}
