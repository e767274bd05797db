/**
 * The REST subset the app and the polecat runner call, with GitHub's semantics: issues and
 * pull requests share numbers, sub-issues and blocked-by edges take numeric issue ids,
 * `Closes #n` closes #n when its pull request is merged into the default branch, lists
 * paginate with `Link` headers, and every state change sends the webhook GitHub would.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { BareRepo } from './bare-repo.js';
import type { Actor, GitHubState, IssueRecord, Permission } from './github-state.js';
import type { WebhookSender } from './webhook-sender.js';
import type { WorkflowRuns } from './workflow-runs.js';

export interface ApiRequest {
  method: string;
  /** Path under the API root, without the query. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: any;
  /** Who the token belongs to; `kind` says which token it was. */
  actor: Actor;
  kind: 'installation' | 'run';
  url: string;
}

export interface ApiResponse {
  status: number;
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

export interface RestContext {
  state: GitHubState;
  repo: BareRepo;
  webhooks: WebhookSender;
  runs: WorkflowRuns;
}

type Handler = (ctx: RestContext, req: ApiRequest, m: string[]) => Promise<ApiResponse> | ApiResponse;

const DOCS = 'https://docs.github.com/rest';
export const notFound = (): ApiResponse => ({ status: 404, json: { message: 'Not Found', documentation_url: DOCS, status: '404' } });
const invalid = (message: string, field?: string): ApiResponse => ({
  status: 422,
  json: {
    message: 'Validation Failed',
    errors: [{ resource: 'Issue', code: 'custom', ...(field ? { field } : {}), message }],
    documentation_url: DOCS,
    status: '422',
  },
});

/** `[method, path pattern under /repos/:owner/:repo, handler, who may call it]`. */
const ROUTES: [string, RegExp, Handler, 'any' | 'installation'][] = [
  ['GET', /^$/, (c) => ({ status: 200, json: c.state.renderRepository() }), 'any'],
  ['GET', /^\/contents\/(.+)$/, getContent, 'any'],
  // No branch protection and no rulesets: GitHub's answers for a repository that has none.
  [
    'GET',
    /^\/branches\/([^/]+)$/,
    async (c, _r, m) => {
      const sha = await c.repo.sha(`refs/heads/${decodeURIComponent(m[1]!)}`);
      return sha
        ? {
            status: 200,
            json: {
              name: decodeURIComponent(m[1]!),
              commit: { sha },
              protected: false,
              protection: { enabled: false, required_status_checks: { enforcement_level: 'off', contexts: [], checks: [] } },
            },
          }
        : notFound();
    },
    'any',
  ],
  ['GET', /^\/rules\/branches\/(.+)$/, () => ({ status: 200, json: [] }), 'any'],
  ['GET', /^\/collaborators\/([^/]+)\/permission$/, getPermission, 'any'],
  ['POST', /^\/issues$/, createIssue, 'installation'],
  ['GET', /^\/issues\/(\d+)$/, (c, _r, m) => withIssue(c, m[1]!, (i) => ({ status: 200, json: c.state.renderIssue(i) })), 'any'],
  ['PATCH', /^\/issues\/(\d+)$/, updateIssue, 'installation'],
  ['POST', /^\/issues\/(\d+)\/labels$/, addLabels, 'installation'],
  ['DELETE', /^\/issues\/(\d+)\/labels\/(.+)$/, removeLabel, 'installation'],
  ['POST', /^\/issues\/(\d+)\/comments$/, createComment, 'any'],
  ['GET', /^\/issues\/(\d+)\/comments$/, listComments, 'any'],
  [
    'GET',
    /^\/issues\/comments\/(\d+)$/,
    (c, _r, m) => {
      const x = c.state.comments.get(Number(m[1]));
      return x ? { status: 200, json: c.state.renderComment(x) } : notFound();
    },
    'any',
  ],
  ['PATCH', /^\/issues\/comments\/(\d+)$/, updateComment, 'installation'],
  ['POST', /^\/issues\/(\d+)\/sub_issues$/, addSubIssue, 'installation'],
  [
    'GET',
    /^\/issues\/(\d+)\/sub_issues$/,
    (c, r, m) =>
      withIssue(c, m[1]!, (i) =>
        page(
          r,
          i.subIssues.map((n) => c.state.renderIssue(c.state.issues.get(n)!)),
        ),
      ),
    'any',
  ],
  ['POST', /^\/issues\/(\d+)\/dependencies\/blocked_by$/, addBlockedBy, 'installation'],
  ['DELETE', /^\/issues\/(\d+)\/dependencies\/blocked_by\/(\d+)$/, removeBlockedBy, 'installation'],
  [
    'GET',
    /^\/issues\/(\d+)\/dependencies\/blocked_by$/,
    (c, r, m) =>
      withIssue(c, m[1]!, (i) =>
        page(
          r,
          i.blockedBy.map((n) => c.state.renderIssue(c.state.issues.get(n)!)),
        ),
      ),
    'any',
  ],
  ['POST', /^\/pulls$/, createPull, 'any'],
  ['GET', /^\/pulls$/, listPulls, 'any'],
  ['GET', /^\/pulls\/(\d+)$/, getPull, 'any'],
  ['PATCH', /^\/pulls\/(\d+)$/, updatePull, 'any'],
  ['POST', /^\/pulls\/(\d+)\/reviews$/, createReview, 'installation'],
  ['GET', /^\/pulls\/(\d+)\/reviews\/(\d+)\/comments$/, listReviewComments, 'any'],
  ['POST', /^\/pulls\/(\d+)\/comments$/, createReviewComment, 'installation'],
  ['GET', /^\/check-suites\/(\d+)\/check-runs$/, listCheckRuns, 'any'],
  ['GET', /^\/actions\/jobs\/(\d+)\/logs$/, jobLogs, 'any'],
  ['PUT', /^\/pulls\/(\d+)\/merge$/, mergePull, 'any'],
  // Octokit sends `{ref}` encoded (`heads%2Fpolecat%2F...`), which GitHub accepts like the plain form.
  ['DELETE', /^\/git\/refs\/heads(?:\/|%2F)(.+)$/i, deleteBranchRef, 'any'],
  ['POST', /^\/actions\/workflows\/([^/]+)\/dispatches$/, dispatch, 'installation'],
  ['GET', /^\/actions\/workflows\/([^/]+)\/runs$/, listWorkflowRuns, 'any'],
  [
    'POST',
    /^\/actions\/runs\/(\d+)\/cancel$/,
    (c, _r, m) => {
      const answer = c.runs.cancel(Number(m[1]));
      if (answer.status === 202) return { status: 202, json: {} };
      return { status: answer.status, json: { message: answer.message, documentation_url: DOCS, status: String(answer.status) } };
    },
    'installation',
  ],
  [
    'GET',
    /^\/actions\/runs\/(\d+)$/,
    (c, _r, m) => {
      const run = c.state.runs.get(Number(m[1]));
      return run ? { status: 200, json: c.state.renderRun(run) } : notFound();
    },
    'any',
  ],
];

export async function answerRest(ctx: RestContext, req: ApiRequest): Promise<ApiResponse> {
  const prefix = `/repos/${ctx.state.owner}/${ctx.state.repo}`;
  if (!req.path.toLowerCase().startsWith(prefix.toLowerCase())) return notFound();
  const rest = req.path.slice(prefix.length);
  for (const [method, pattern, handler, who] of ROUTES) {
    const m = pattern.exec(rest);
    if (!m || method !== req.method) continue;
    if (who === 'installation' && req.kind !== 'installation')
      return { status: 403, json: { message: 'Resource not accessible by integration', documentation_url: DOCS, status: '403' } };
    return handler(ctx, req, m.map((x) => (x === undefined ? x : decodeURIComponent(x))) as string[]);
  }
  return notFound();
}

function withIssue(
  c: RestContext,
  n: string,
  fn: (issue: IssueRecord) => ApiResponse | Promise<ApiResponse>,
): ApiResponse | Promise<ApiResponse> {
  const issue = c.state.issues.get(Number(n));
  return issue ? fn(issue) : notFound();
}

/** `per_page` / `page` with GitHub's `Link` header, which Octokit's paginate follows. */
function page(req: ApiRequest, items: unknown[]): ApiResponse {
  const per = Math.min(Number(req.query.get('per_page') ?? 30) || 30, 100);
  const at = Math.max(Number(req.query.get('page') ?? 1) || 1, 1);
  const slice = items.slice((at - 1) * per, at * per);
  const headers: Record<string, string> = {};
  if (at * per < items.length) {
    const next = new URL(req.url);
    next.searchParams.set('page', String(at + 1));
    next.searchParams.set('per_page', String(per));
    headers.link = `<${next}>; rel="next"`;
  }
  return { status: 200, json: slice, headers };
}

async function getContent(c: RestContext, req: ApiRequest, m: string[]): Promise<ApiResponse> {
  const path = m[1]!;
  const ref = req.query.get('ref') ?? c.repo.defaultBranch;
  const text = await c.repo.readFile(path, ref);
  if (text === null) return notFound();
  if (/raw/.test(String(req.headers.accept ?? '')))
    return { status: 200, text, headers: { 'content-type': 'application/vnd.github.raw; charset=utf-8' } };
  const name = path.split('/').pop()!;
  return {
    status: 200,
    json: {
      type: 'file',
      encoding: 'base64',
      size: Buffer.byteLength(text),
      name,
      path,
      content: Buffer.from(text).toString('base64'),
      sha: '0'.repeat(40),
      url: `${c.state.repoApi}/contents/${path}`,
      html_url: `${c.state.repoWeb}/blob/${ref}/${path}`,
      download_url: null,
    },
  };
}

function getPermission(c: RestContext, _req: ApiRequest, m: string[]): ApiResponse {
  const login = m[1]!;
  const role: Permission | 'none' | undefined =
    login === c.state.owner ? 'admin' : (c.state.collaborators.get(login) ?? (c.state.users.has(login) ? 'none' : undefined));
  if (role === undefined) return notFound();
  const permission = role === 'maintain' ? 'write' : role === 'triage' ? 'read' : role;
  return { status: 200, json: { permission, role_name: role, user: c.state.renderUser(c.state.user(login)) } };
}

function createIssue(c: RestContext, req: ApiRequest): ApiResponse {
  if (typeof req.body?.title !== 'string' || req.body.title === '') return invalid('title is missing', 'title');
  const labels = (req.body.labels ?? []).map((l: unknown) => (typeof l === 'string' ? l : (l as { name: string }).name));
  const issue = c.state.createIssue(req.actor, { title: req.body.title, body: req.body.body ?? null, labels });
  c.webhooks.send('issues', 'opened', { issue: c.state.renderIssue(issue) }, req.actor);
  for (const label of issue.labels)
    c.webhooks.send('issues', 'labeled', { issue: c.state.renderIssue(issue), label: c.state.renderLabel(label) }, req.actor);
  return { status: 201, json: c.state.renderIssue(issue) };
}

function updateIssue(c: RestContext, req: ApiRequest, m: string[]): ApiResponse | Promise<ApiResponse> {
  return withIssue(c, m[1]!, (issue) => {
    const b = req.body ?? {};
    if (typeof b.title === 'string') issue.title = b.title;
    if (b.body !== undefined) issue.body = b.body;
    issue.updatedAt = c.state.stamp();
    if (Array.isArray(b.labels)) setLabels(c, issue, b.labels.map(String), req.actor);
    if (b.state === 'closed' && issue.state === 'open')
      closeIssue(c, issue, b.state_reason === 'not_planned' ? 'not_planned' : 'completed', req.actor);
    else if (b.state === 'open' && issue.state === 'closed') {
      Object.assign(issue, { state: 'open', stateReason: 'reopened', closedAt: null });
      c.webhooks.send('issues', 'reopened', { issue: c.state.renderIssue(issue) }, req.actor);
    }
    return { status: 200, json: c.state.renderIssue(issue) };
  });
}

export function closeIssue(c: RestContext, issue: IssueRecord, reason: 'completed' | 'not_planned', actor: Actor): void {
  Object.assign(issue, { state: 'closed', stateReason: reason, closedAt: c.state.stamp(), updatedAt: c.state.stamp() });
  c.webhooks.send('issues', 'closed', { issue: c.state.renderIssue(issue) }, actor);
}

function setLabels(c: RestContext, issue: IssueRecord, labels: string[], actor: Actor): void {
  for (const gone of issue.labels.filter((l) => !labels.includes(l))) {
    issue.labels = issue.labels.filter((l) => l !== gone);
    c.webhooks.send('issues', 'unlabeled', { issue: c.state.renderIssue(issue), label: c.state.renderLabel(gone) }, actor);
  }
  addLabelNames(c, issue, labels, actor);
}

function addLabelNames(c: RestContext, issue: IssueRecord, labels: string[], actor: Actor): void {
  for (const label of labels.map((l) => c.state.label(l).name)) {
    if (issue.labels.includes(label)) continue;
    issue.labels.push(label);
    issue.updatedAt = c.state.stamp();
    c.webhooks.send('issues', 'labeled', { issue: c.state.renderIssue(issue), label: c.state.renderLabel(label) }, actor);
  }
}

function addLabels(c: RestContext, req: ApiRequest, m: string[]): ApiResponse | Promise<ApiResponse> {
  return withIssue(c, m[1]!, (issue) => {
    const labels: unknown[] = Array.isArray(req.body) ? req.body : (req.body?.labels ?? []);
    addLabelNames(
      c,
      issue,
      labels.map((l) => (typeof l === 'string' ? l : (l as { name: string }).name)),
      req.actor,
    );
    return { status: 200, json: issue.labels.map((l) => c.state.renderLabel(l)) };
  });
}

function removeLabel(c: RestContext, req: ApiRequest, m: string[]): ApiResponse | Promise<ApiResponse> {
  return withIssue(c, m[1]!, (issue) => {
    const name = m[2]!;
    if (!issue.labels.includes(name))
      return { status: 404, json: { message: 'Label does not exist', documentation_url: DOCS, status: '404' } };
    issue.labels = issue.labels.filter((l) => l !== name);
    c.webhooks.send('issues', 'unlabeled', { issue: c.state.renderIssue(issue), label: c.state.renderLabel(name) }, req.actor);
    return { status: 200, json: issue.labels.map((l) => c.state.renderLabel(l)) };
  });
}

function createComment(c: RestContext, req: ApiRequest, m: string[]): ApiResponse | Promise<ApiResponse> {
  return withIssue(c, m[1]!, (issue) => {
    // A job's GITHUB_TOKEN with `pull-requests: write` may comment on pull requests, not on issues.
    if (req.kind === 'run' && !c.state.pulls.has(issue.number))
      return { status: 403, json: { message: 'Resource not accessible by integration', documentation_url: DOCS, status: '403' } };
    if (typeof req.body?.body !== 'string') return invalid('body is missing', 'body');
    const at = c.state.stamp();
    const comment = {
      id: c.state.id(2_000_000_000),
      issue: issue.number,
      body: req.body.body,
      user: req.actor,
      createdAt: at,
      updatedAt: at,
      viaApp: req.actor.appId ?? null,
    };
    c.state.comments.set(comment.id, comment);
    issue.comments++;
    c.webhooks.send('issue_comment', 'created', { issue: c.state.renderIssue(issue), comment: c.state.renderComment(comment) }, req.actor);
    return { status: 201, json: c.state.renderComment(comment) };
  });
}

function listComments(c: RestContext, req: ApiRequest, m: string[]): ApiResponse | Promise<ApiResponse> {
  return withIssue(c, m[1]!, (issue) =>
    page(
      req,
      [...c.state.comments.values()]
        .filter((x) => x.issue === issue.number)
        .sort((a, b) => a.id - b.id)
        .map((x) => c.state.renderComment(x)),
    ),
  );
}

function updateComment(c: RestContext, req: ApiRequest, m: string[]): ApiResponse {
  const comment = c.state.comments.get(Number(m[1]));
  if (!comment) return notFound();
  const changes = { body: { from: comment.body } };
  comment.body = String(req.body?.body ?? comment.body);
  comment.updatedAt = c.state.stamp();
  c.webhooks.send(
    'issue_comment',
    'edited',
    { issue: c.state.renderIssue(c.state.issues.get(comment.issue)!), comment: c.state.renderComment(comment), changes },
    req.actor,
  );
  return { status: 200, json: c.state.renderComment(comment) };
}

function addSubIssue(c: RestContext, req: ApiRequest, m: string[]): ApiResponse | Promise<ApiResponse> {
  return withIssue(c, m[1]!, (parent) => {
    const child = c.state.issueById(Number(req.body?.sub_issue_id));
    if (!child) return notFound();
    if (child.parent === parent.number)
      return invalid(
        'An error occurred while adding the sub-issue to the parent issue. Issue may not contain duplicate sub-issues',
        'sub_issue_id',
      );
    if (child.parent !== null)
      return invalid(
        'An error occurred while adding the sub-issue to the parent issue. Sub issue may only have one parent',
        'sub_issue_id',
      );
    if (child.number === parent.number) return invalid('An issue cannot be a sub-issue of itself', 'sub_issue_id');
    child.parent = parent.number;
    parent.subIssues.push(child.number);
    return { status: 201, json: c.state.renderIssue(parent) };
  });
}

function addBlockedBy(c: RestContext, req: ApiRequest, m: string[]): ApiResponse | Promise<ApiResponse> {
  return withIssue(c, m[1]!, (issue) => {
    const blocker = c.state.issueById(Number(req.body?.issue_id));
    if (!blocker) return notFound();
    if (issue.blockedBy.includes(blocker.number)) return invalid('Dependency already exists', 'issue_id');
    if (blocker.number === issue.number) return invalid('An issue cannot be blocked by itself', 'issue_id');
    issue.blockedBy.push(blocker.number);
    return { status: 201, json: c.state.renderIssue(blocker) };
  });
}

/** `DELETE /issues/{n}/dependencies/blocked_by/{issue_id}`: GitHub answers with the issue; 404 when the edge is not there. */
function removeBlockedBy(c: RestContext, _req: ApiRequest, m: string[]): ApiResponse | Promise<ApiResponse> {
  return withIssue(c, m[1]!, (issue) => {
    const blocker = c.state.issueById(Number(m[2]));
    if (!blocker || !issue.blockedBy.includes(blocker.number)) return notFound();
    issue.blockedBy = issue.blockedBy.filter((n) => n !== blocker.number);
    return { status: 200, json: c.state.renderIssue(issue) };
  });
}

async function createPull(c: RestContext, req: ApiRequest): Promise<ApiResponse> {
  const { head: rawHead, base, title, body, draft } = req.body ?? {};
  const head = String(rawHead ?? '').replace(new RegExp(`^${c.state.owner}:`), '');
  const headSha = await c.repo.sha(`refs/heads/${head}`);
  const baseSha = await c.repo.sha(`refs/heads/${base}`);
  if (!headSha) return invalid(`head: ${rawHead} is not a branch of ${c.state.owner}/${c.state.repo}`, 'head');
  if (!baseSha) return invalid(`base: ${base} is not a branch`, 'base');
  if ([...c.state.pulls.values()].some((p) => p.state === 'open' && p.head === head && p.base === base))
    return invalid(`A pull request already exists for ${c.state.owner}:${head}.`);
  if (headSha === baseSha) return invalid(`No commits between ${base} and ${head}`);
  const at = c.state.stamp();
  const number = c.state.nextNumber();
  const pull = {
    number,
    id: c.state.id(5_000_000_000),
    title: String(title),
    body: body ?? null,
    head,
    base,
    headSha,
    baseSha,
    state: 'open' as const,
    merged: false,
    mergedAt: null,
    mergeSha: null,
    mergedBy: null,
    draft: draft === true,
    user: req.actor,
    createdAt: at,
    updatedAt: at,
    closedAt: null,
  };
  c.state.pulls.set(number, pull);
  // A pull request is an issue too (its number is taken from the same sequence).
  c.state.issues.set(number, {
    number,
    id: c.state.id(3_000_000_000),
    title: pull.title,
    body: pull.body,
    state: 'open',
    stateReason: null,
    labels: [],
    user: req.actor,
    createdAt: at,
    updatedAt: at,
    closedAt: null,
    parent: null,
    subIssues: [],
    blockedBy: [],
    comments: 0,
    viaApp: req.actor.appId ?? null,
  });
  c.webhooks.send('pull_request', 'opened', { number, pull_request: c.state.renderPull(pull) }, req.actor);
  return { status: 201, json: c.state.renderPull(pull) };
}

function listPulls(c: RestContext, req: ApiRequest): ApiResponse {
  const state = req.query.get('state') ?? 'open';
  const head = req.query.get('head');
  const base = req.query.get('base');
  const pulls = [...c.state.pulls.values()]
    .filter((p) => state === 'all' || p.state === state)
    .filter((p) => !head || `${c.state.owner}:${p.head}`.toLowerCase() === head.toLowerCase())
    .filter((p) => !base || p.base === base)
    .sort((a, b) => b.number - a.number);
  return page(
    req,
    pulls.map((p) => c.state.renderPull(p)),
  );
}

function updatePull(c: RestContext, req: ApiRequest, m: string[]): ApiResponse {
  const pull = c.state.pulls.get(Number(m[1]));
  if (!pull) return notFound();
  if (req.body?.state === 'closed' && pull.state === 'open') {
    Object.assign(pull, { state: 'closed', closedAt: c.state.stamp(), updatedAt: c.state.stamp() });
    Object.assign(c.state.issues.get(pull.number)!, { state: 'closed', closedAt: pull.closedAt });
    c.webhooks.send('pull_request', 'closed', { number: pull.number, pull_request: c.state.renderPull(pull) }, req.actor);
  }
  return { status: 200, json: c.state.renderPull(pull) };
}

/**
 * One pull request, with `mergeable` and `mergeable_state` as GitHub computes them for an open
 * one: a real merge of its head into its base (`dirty` on a conflict), `behind` when the
 * repository requires up-to-date branches and the head lacks the base's tip, else `clean`.
 */
async function getPull(c: RestContext, _req: ApiRequest, m: string[]): Promise<ApiResponse> {
  const pull = c.state.pulls.get(Number(m[1]));
  if (!pull) return notFound();
  const json = c.state.renderPull(pull) as Record<string, unknown> & { head: Record<string, unknown> };
  if (pull.state !== 'open') return { status: 200, json: { ...json, mergeable: null, mergeable_state: 'unknown' } };
  const clean = await c.repo.mergesCleanly(pull.head, pull.base);
  const baseSha = await c.repo.sha(`refs/heads/${pull.base}`);
  const headSha = await c.repo.sha(`refs/heads/${pull.head}`);
  const behind = !!baseSha && !!headSha && c.state.requireUpToDate && !(await c.repo.isAncestor(baseSha, headSha));
  const state = clean === null ? 'unknown' : !clean ? 'dirty' : behind ? 'behind' : 'clean';
  return { status: 200, json: { ...json, mergeable: clean, mergeable_state: state, head: { ...json.head, sha: headSha ?? pull.headSha } } };
}

const CLOSING = /\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s+#(\d+)\b/gi;

async function mergePull(c: RestContext, req: ApiRequest, m: string[]): Promise<ApiResponse> {
  const pull = c.state.pulls.get(Number(m[1]));
  if (!pull) return notFound();
  if (pull.merged) return { status: 405, json: { message: 'Pull Request is not mergeable', documentation_url: DOCS, status: '405' } };
  if (pull.state !== 'open') return { status: 422, json: { message: 'Pull Request is not open', documentation_url: DOCS, status: '422' } };
  if (pull.draft) return { status: 405, json: { message: 'Pull Request is still a draft', documentation_url: DOCS, status: '405' } };
  if (req.body?.sha && req.body.sha !== (await c.repo.sha(`refs/heads/${pull.head}`)))
    return {
      status: 409,
      json: { message: 'Head branch was modified. Review and try the merge again.', documentation_url: DOCS, status: '409' },
    };
  const message = `${req.body?.commit_title ?? `Merge pull request #${pull.number} from ${c.state.owner}/${pull.head}`}\n\n${req.body?.commit_message ?? pull.title}`;
  const result = await c.repo.merge(pull.head, pull.base, message, {
    name: req.actor.login,
    email: `${req.actor.id}+${req.actor.login}@users.noreply.github.test`,
  });
  if (!result.merged)
    return {
      status: 405,
      json: {
        message: result.reason === 'conflict' ? 'Merge conflict' : 'Base branch was modified. Review and try the merge again.',
        documentation_url: DOCS,
        status: '405',
      },
    };
  const at = c.state.stamp();
  Object.assign(pull, {
    state: 'closed',
    merged: true,
    mergedAt: at,
    mergeSha: result.sha,
    mergedBy: req.actor,
    closedAt: at,
    updatedAt: at,
    headSha: (await c.repo.sha(`refs/heads/${pull.head}`)) ?? pull.headSha,
  });
  Object.assign(c.state.issues.get(pull.number)!, { state: 'closed', closedAt: at });
  c.webhooks.send('pull_request', 'closed', { number: pull.number, pull_request: c.state.renderPull(pull) }, req.actor);
  // Closing keywords close their issues when the pull request lands on the default branch.
  if (pull.base === c.repo.defaultBranch) {
    for (const [, n] of (pull.body ?? '').matchAll(CLOSING)) {
      const issue = c.state.issues.get(Number(n));
      if (issue && issue.state === 'open' && !c.state.pulls.has(issue.number)) closeIssue(c, issue, 'completed', req.actor);
    }
  }
  return { status: 200, json: { sha: result.sha, merged: true, message: 'Pull Request successfully merged' } };
}

/** `DELETE /git/refs/heads/{branch}`: 204, or 422 "Reference does not exist" as GitHub answers for a missing ref. */
async function deleteBranchRef(c: RestContext, _req: ApiRequest, m: string[]): Promise<ApiResponse> {
  const branch = m[1]!;
  if (branch === c.repo.defaultBranch) return invalid('Cannot delete the default branch', 'ref');
  if (!(await c.repo.sha(`refs/heads/${branch}`)))
    return { status: 422, json: { message: 'Reference does not exist', documentation_url: DOCS, status: '422' } };
  await c.repo.deleteBranch(branch);
  return { status: 204 };
}

/** `GET /actions/workflows/:file/runs` (`?status=` queued, in_progress or completed), newest first, paginated. */
function listWorkflowRuns(c: RestContext, req: ApiRequest, m: string[]): ApiResponse {
  const path = `.github/workflows/${m[1]}`;
  const status = req.query.get('status');
  const runs = [...c.state.runs.values()].filter((r) => r.path === path && (!status || r.status === status)).reverse();
  const answer = page(
    req,
    runs.map((r) => c.state.renderRun(r)),
  );
  return { ...answer, json: { total_count: runs.length, workflow_runs: answer.json } };
}

async function dispatch(c: RestContext, req: ApiRequest, m: string[]): Promise<ApiResponse> {
  const ref = String(req.body?.ref ?? '').replace(/^refs\/heads\//, '');
  if (!ref) return invalid('ref is missing', 'ref');
  const answer = await c.runs.dispatch(m[1]!, ref, req.body?.inputs ?? {}, req.actor);
  if (answer.status === 204) return { status: 204 };
  return { status: answer.status, json: { message: answer.message, documentation_url: DOCS, status: String(answer.status) } };
}

/** A person submits a review (`event` REQUEST_CHANGES, COMMENT or APPROVE) with inline comments; sends pull_request_review.submitted. */
async function createReview(c: RestContext, req: ApiRequest, m: string[]): Promise<ApiResponse> {
  const pull = c.state.pulls.get(Number(m[1]));
  if (!pull) return notFound();
  const states = { REQUEST_CHANGES: 'CHANGES_REQUESTED', COMMENT: 'COMMENTED', APPROVE: 'APPROVED' } as const;
  const state = states[String(req.body?.event) as keyof typeof states];
  if (!state) return invalid('event must be REQUEST_CHANGES, COMMENT or APPROVE', 'event');
  if (state !== 'APPROVED' && !req.body?.body && !(req.body?.comments ?? []).length) return invalid('Review body is required', 'body');
  const at = c.state.stamp();
  const commitId = (await c.repo.sha(`refs/heads/${pull.head}`)) ?? pull.headSha;
  const review = {
    id: c.state.id(6_000_000_000),
    pull: pull.number,
    user: req.actor,
    body: req.body?.body ?? null,
    state,
    commitId,
    submittedAt: at,
  };
  c.state.reviews.set(review.id, review);
  for (const x of (req.body?.comments ?? []) as { path: string; line?: number; body: string }[]) {
    const comment = {
      id: c.state.id(7_000_000_000),
      pull: pull.number,
      review: review.id,
      path: String(x.path),
      line: x.line ?? null,
      body: String(x.body),
      user: req.actor,
      commitId,
      createdAt: at,
    };
    c.state.reviewComments.set(comment.id, comment);
  }
  c.webhooks.send(
    'pull_request_review',
    'submitted',
    { review: c.state.renderReview(review), pull_request: c.state.renderPull(pull) },
    req.actor,
  );
  return { status: 200, json: { ...c.state.renderReview(review), state } };
}

function listReviewComments(c: RestContext, req: ApiRequest, m: string[]): ApiResponse {
  const review = c.state.reviews.get(Number(m[2]));
  if (!review || review.pull !== Number(m[1])) return notFound();
  return page(
    req,
    [...c.state.reviewComments.values()]
      .filter((x) => x.review === review.id)
      .sort((a, b) => a.id - b.id)
      .map((x) => c.state.renderReviewComment(x)),
  );
}

/** A single inline comment (GitHub makes a one-comment review for it); sends pull_request_review_comment.created. */
async function createReviewComment(c: RestContext, req: ApiRequest, m: string[]): Promise<ApiResponse> {
  const pull = c.state.pulls.get(Number(m[1]));
  if (!pull) return notFound();
  if (typeof req.body?.body !== 'string' || typeof req.body?.path !== 'string') return invalid('body and path are required', 'body');
  const at = c.state.stamp();
  const commitId = (await c.repo.sha(`refs/heads/${pull.head}`)) ?? pull.headSha;
  const review = {
    id: c.state.id(6_000_000_000),
    pull: pull.number,
    user: req.actor,
    body: null,
    state: 'COMMENTED' as const,
    commitId,
    submittedAt: at,
  };
  c.state.reviews.set(review.id, review);
  const comment = {
    id: c.state.id(7_000_000_000),
    pull: pull.number,
    review: review.id,
    path: req.body.path,
    line: req.body.line ?? null,
    body: req.body.body,
    user: req.actor,
    commitId,
    createdAt: at,
  };
  c.state.reviewComments.set(comment.id, comment);
  c.webhooks.send(
    'pull_request_review_comment',
    'created',
    { comment: c.state.renderReviewComment(comment), pull_request: c.state.renderPull(pull) },
    req.actor,
  );
  return { status: 201, json: c.state.renderReviewComment(comment) };
}

function listCheckRuns(c: RestContext, _req: ApiRequest, m: string[]): ApiResponse {
  const suite = c.state.checkSuites.get(Number(m[1]));
  if (!suite) return notFound();
  return { status: 200, json: { total_count: suite.runs.length, check_runs: suite.runs.map((r) => c.state.renderCheckRun(suite, r)) } };
}

/** A job's log as plain text (GitHub answers 302 to a short-lived download URL; the text is the same). */
function jobLogs(c: RestContext, _req: ApiRequest, m: string[]): ApiResponse {
  const run = [...c.state.checkSuites.values()].flatMap((s) => s.runs).find((r) => r.id === Number(m[1]));
  return run ? { status: 200, text: run.log, headers: { 'content-type': 'text/plain; charset=utf-8' } } : notFound();
}
