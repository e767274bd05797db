/**
 * A stateful stand-in for GitHub (test-only code), on 127.0.0.1 with a port of its own:
 * the REST API under `/api/v3` and GraphQL at `/api/graphql`, where Probot looks for a
 * GitHub Enterprise Server (`GHE_HOST=127.0.0.1:<port>`, `GHE_PROTOCOL=http`) and where
 * `GITHUB_API_URL` points a workflow's job. It owns the repository's code (a bare git
 * repository, on `file://` or over smart HTTP under `/<owner>/<repo>.git`), answers only
 * the calls the app and the runner make, records every request, injects faults by route,
 * sends signed webhooks for every change and runs `workflow_dispatch`ed workflows as an
 * Actions runner would. See docs/architecture.md.
 */
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ActionsOidc, OIDC_PATH } from './actions-oidc.js';
import { answerGraphql, summarise, type GraphqlSummary } from './graphql-api.js';
import { BareRepo } from './bare-repo.js';
import { serveGitHttp } from './git-http-backend.js';
import { GitHubState, type Actor, type CheckSuiteRecord, type Permission, type RunRecord } from './github-state.js';
import { answerRest, notFound, type ApiResponse } from './rest-api.js';
import { WebhookSender } from './webhook-sender.js';
import { WorkflowRuns, type WorkflowRunsOptions } from './workflow-runs.js';

export interface GitHubDoubleOptions {
  owner: string;
  repo: string;
  /** A scratch directory: the bare repository and the workflow runs' workspaces go here. */
  dir: string;
  /** The repository's files on `main` at the start. */
  files: Record<string, string>;
  webhookSecret: string;
  appId: number;
  /** PEM of the app's public key: access-token requests must carry a JWT it verifies. */
  appPublicKey?: string;
  installationId?: number;
  collaborators?: Record<string, Permission>;
  /** Repository variables (`vars.*`) and secrets (`secrets.*`) the workflows see. */
  variables?: Record<string, string>;
  secrets?: Record<string, string>;
  /** The `gt` that `npx gt` means in a workflow run (this checkout's bin/gt). */
  gtBin: string;
  /** Composite actions a workflow `uses:` (`owner/repo` → its checkout), run from their action.yml. */
  actions?: WorkflowRunsOptions['actions'];
  stepTimeoutMs?: number;
  /**
   * Workflow runs check the repository out over smart HTTP (`httpGitUrl`, with the run's
   * token as actions/checkout sends it), so their remote is too; default `file://`.
   */
  gitOverHttp?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  status: number;
  actor: string | null;
  /** When it arrived (ms since the epoch). */
  at: number;
  /** For `POST /api/graphql`: the operation and its root fields. */
  graphql?: GraphqlSummary;
  /**
   * Whose work it is: `job` for a polecat job's own requests (its OIDC token, and anything
   * with its workflow token or the scoped token it got from the app), `app-for-job` for the
   * app's requests while it serves a job's token exchange (from the job's OIDC token to the
   * scoped token minted, one of each kind the exchange makes), `person` for a person's
   * (a test acting as a reviewer), `app` for the rest.
   */
  by: 'app' | 'app-for-job' | 'job' | 'person';
}

/** The requests the app's token exchange (src/github/token-exchange) makes, one of each per exchange. */
const EXCHANGE_STEPS: [string, RegExp][] = [
  ['GET', /^\/_services\/token\/\.well-known\/jwks$/],
  ['GET', /^\/repos\/[^/]+\/[^/]+\/installation$/],
  ['GET', /^\/repos\/[^/]+\/[^/]+$/],
  ['GET', /^\/repos\/[^/]+\/[^/]+\/contents\/\.github(%2F|\/)gastown\.yml$/i],
  ['GET', /^\/repos\/[^/]+\/[^/]+\/actions\/runs\/\d+$/],
  ['GET', /^\/app$/],
  ['POST', /^\/app\/installations\/\d+\/access_tokens$/],
];

/** A smart-HTTP git request (clone, fetch, push, ls-remote): kept apart from the API's requests. */
export interface GitRequest {
  method: string;
  /** The path under `/<owner>/<repo>.git` (`/info/refs`, `/git-upload-pack`, `/git-receive-pack`). */
  path: string;
  /** `git-upload-pack` (clone, fetch, ls-remote) or `git-receive-pack` (push). */
  service: string;
  status: number;
  /** Whose token it carried (Basic auth), or null without one. */
  actor: string | null;
  /** The client's User-Agent (`git/2.39.5` from git; `git/gastown` from the app's in-process reads, ledger/smart-http.ts). */
  agent: string;
  at: number;
}

export interface Fault {
  method?: string;
  /** Matched against the path under /api/v3 (or `/api/graphql`). */
  path: RegExp;
  /** For GraphQL: matched against the document (e.g. `/createIssue/`). */
  graphql?: RegExp;
  /** The request is carried out, and only then answered with the fault (GitHub timing out after the write). */
  executed?: boolean;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** How many matching requests fail (default 1). */
  times?: number;
  /** Matching requests let through before the first failure (default 0). */
  after?: number;
  /**
   * Runs when the fault strikes, before anything is answered: a test kills the caller here
   * (the app dying with its request in flight, before GitHub acted on it).
   */
  onStrike?: () => void | Promise<void>;
}

/**
 * GitHub's secondary rate limit on content creation ("no more than 80 content-generating
 * requests per minute"), per token owner, scaled down in time for tests: past `max`
 * content-creating requests (POSTs that create issues, comments, links, labels or pull
 * requests; GraphQL requests with a mutation) within `windowMs`, a request is refused before
 * it runs with 403, GitHub's message and `retry-after` (whole seconds until the window has
 * room again).
 */
export interface SecondaryRateLimit {
  max: number;
  windowMs: number;
}

const CONTENT_CREATING =
  /^\/repos\/[^/]+\/[^/]+\/(?:issues(?:\/\d+\/(?:comments|sub_issues|labels|dependencies\/blocked_by))?|pulls|labels)$/;

interface TokenInfo {
  actor: Actor;
  kind: 'installation' | 'run';
}

export class GitHubDouble {
  readonly state: GitHubState;
  /** What the app asked for each installation token it minted with a scope (the token exchange). */
  readonly scopedTokens: { repository_ids?: number[]; permissions?: Record<string, string>; revoked?: boolean }[] = [];
  /** The installation token each of `scopedTokens` was (kept here so a revocation can be matched). */
  readonly #scoped = new Map<string, { revoked?: boolean }>();
  readonly repo: BareRepo;
  readonly webhooks: WebhookSender;
  readonly runs: WorkflowRuns;
  readonly requests: RecordedRequest[] = [];
  /** Git over smart HTTP (not API requests: `requests` leaves them out). */
  readonly gitRequests: GitRequest[] = [];
  readonly app: Actor;
  readonly installationId: number;
  readonly #server: Server;
  readonly #options: GitHubDoubleOptions;
  readonly #tokens = new Map<string, TokenInfo>();
  readonly #oidc: ActionsOidc;
  /** ACTIONS_ID_TOKEN_REQUEST_TOKEN of each running run with `id-token: write`. */
  readonly #oidcRequests = new Map<string, RunRecord>();
  /** Token exchanges under way (a job asked for its OIDC token, its scoped token is not minted yet): the steps seen. */
  readonly #exchanges: { at: number; seen: Set<string> }[] = [];
  readonly #faults: (Fault & { left: number; skip: number })[] = [];
  /** Content-creating requests per actor (times), for the secondary rate limit. */
  readonly #created = new Map<string, number[]>();
  secondaryRateLimit: SecondaryRateLimit | null = null;
  #port = 0;
  #lastRequestAt = Date.now();

  private constructor(options: GitHubDoubleOptions, port: number, server: Server, oidc: ActionsOidc) {
    this.#options = options;
    this.#oidc = oidc;
    this.#server = server;
    this.#port = port;
    this.installationId = options.installationId ?? 4242;
    const hosts = { webUrl: this.webUrl, apiUrl: this.apiUrl, owner: options.owner, repo: options.repo };
    this.state = new GitHubState(options.owner, options.repo, hosts);
    this.app = this.state.user('gastown[bot]', 'Bot', options.appId);
    for (const [login, permission] of Object.entries(options.collaborators ?? {})) {
      this.state.collaborators.set(login, permission);
      this.state.user(login);
    }
    for (const [k, v] of Object.entries(options.variables ?? {})) this.state.variables.set(k, v);
    this.repo = BareRepo.create(join(options.dir, 'github', options.owner, `${options.repo}.git`), options.files);
    this.webhooks = new WebhookSender(this.state, options.webhookSecret, this.installationId, options.appId);
    const actions = this.state.user('github-actions[bot]', 'Bot');
    this.runs = new WorkflowRuns({
      state: this.state,
      repo: this.repo,
      webhooks: this.webhooks,
      apiUrl: this.apiUrl,
      webUrl: this.webUrl,
      gtBin: options.gtBin,
      actions: options.actions,
      workDir: join(options.dir, 'actions'),
      secrets: options.secrets,
      stepTimeoutMs: options.stepTimeoutMs,
      cloneUrl: options.gitOverHttp ? this.httpGitUrl : this.repo.url,
      issueRunToken: () => {
        const token = `ghs_run${randomBytes(12).toString('hex')}`;
        this.#tokens.set(token, { actor: actions, kind: 'run' });
        return { token, revoke: () => this.#tokens.delete(token) };
      },
      oidcRequestUrl: `${this.webUrl}${OIDC_PATH}/request?api-version=2.0`,
      issueOidcRequest: (run) => {
        const token = `oidc-request-${randomBytes(12).toString('hex')}`;
        this.#oidcRequests.set(token, run);
        return { token, revoke: () => this.#oidcRequests.delete(token) };
      },
    });
  }

  /** Starts the double on a free port of 127.0.0.1. */
  static async start(options: GitHubDoubleOptions): Promise<GitHubDouble> {
    let double: GitHubDouble | null = null;
    const server = createServer((req, res) => {
      void double!.#handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    mkdirSync(join(options.dir, 'actions'), { recursive: true });
    double = new GitHubDouble(options, port, server, await ActionsOidc.create(`http://127.0.0.1:${port}`));
    return double;
  }

  /** `127.0.0.1:<port>`: Probot's GHE_HOST. */
  get host(): string {
    return `127.0.0.1:${this.#port}`;
  }

  get webUrl(): string {
    return `http://${this.host}`;
  }

  /** GITHUB_API_URL; Probot's base URL with GHE_HOST and GHE_PROTOCOL=http. */
  get apiUrl(): string {
    return `${this.webUrl}/api/v3`;
  }

  /** A `GASTOWN_GIT_URL` template reaching this repository over file://. */
  get gitUrlTemplate(): string {
    return `file://${this.repo.path.replace(`/${this.#options.owner}/${this.#options.repo}.git`, '')}/{owner}/{repo}.git`;
  }

  /**
   * A `GASTOWN_GIT_URL` template reaching this repository over smart HTTP, with the token
   * as GitHub takes it (`x-access-token:<token>` in the URL): the server side of git is then
   * the double's, as on GitHub it is GitHub's.
   */
  get httpGitUrlTemplate(): string {
    return `http://x-access-token:{token}@${this.host}/{owner}/{repo}.git`;
  }

  /** The repository's smart-HTTP URL without credentials (what Actions' checkout clones over HTTP). */
  get httpGitUrl(): string {
    return `${this.webUrl}/${this.#options.owner}/${this.#options.repo}.git`;
  }

  /** Where webhooks go (the app's `/api/github/webhooks`). */
  set webhookUrl(url: string) {
    this.webhooks.url = url;
  }

  /** The next `times` requests matching `fault` fail with its status (and headers, such as `retry-after`). */
  fault(fault: Fault): void {
    this.#faults.push({ ...fault, left: fault.times ?? 1, skip: fault.after ?? 0 });
  }

  /** Faults not used up yet are dropped. */
  clearFaults(): void {
    this.#faults.length = 0;
  }

  /** Requests counted as `METHOD path` (path under /api/v3), for assertions on what was called. */
  count(method: string, path: RegExp): number {
    return this.requests.filter((r) => r.method === method && path.test(r.path)).length;
  }

  /** Waits until no webhook is in flight and no workflow run is running (they may cause each other). */
  async idle(): Promise<void> {
    while (this.webhooks.inFlight || this.runs.active) {
      await this.webhooks.settled();
      await this.runs.settled();
    }
  }

  /**
   * Waits until nothing has happened for `ms`: no webhook in flight, no run active, no API
   * request. (The app answers a webhook it is still handling after 9 s with 202, so a
   * finished delivery does not prove the app is done.)
   */
  async quiet(ms = 1500, timeoutMs = 120_000): Promise<void> {
    await this.until(
      'a quiet moment',
      () => this.webhooks.inFlight === 0 && this.runs.active === 0 && Date.now() - this.#lastRequestAt > ms,
      timeoutMs,
    );
  }

  /** Waits until `check` holds, polling every 50 ms; throws after `timeoutMs` naming `what`. */
  async until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`GitHub double: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  // --- what people do on github.com ------------------------------------------------------

  /** A person opens an issue (sends issues.opened). */
  openIssue(login: string, title: string, body: string): number {
    const issue = this.state.createIssue(this.state.user(login), { title, body });
    this.webhooks.send('issues', 'opened', { issue: this.state.renderIssue(issue) }, issue.user);
    return issue.number;
  }

  /** A person adds a label to an issue (sends issues.labeled). */
  addLabel(login: string, number: number, label: string): void {
    const issue = this.state.issues.get(number)!;
    label = this.state.label(label).name;
    if (!issue.labels.includes(label)) issue.labels.push(label);
    this.webhooks.send(
      'issues',
      'labeled',
      { issue: this.state.renderIssue(issue), label: this.state.renderLabel(label) },
      this.state.user(login),
    );
  }

  /** A person comments on an issue (sends issue_comment.created). */
  comment(login: string, number: number, body: string): number {
    const issue = this.state.issues.get(number)!;
    const user = this.state.user(login);
    const at = this.state.stamp();
    const comment = { id: this.state.id(2_000_000_000), issue: number, body, user, createdAt: at, updatedAt: at, viaApp: null };
    this.state.comments.set(comment.id, comment);
    issue.comments++;
    this.webhooks.send(
      'issue_comment',
      'created',
      { issue: this.state.renderIssue(issue), comment: this.state.renderComment(comment) },
      user,
    );
    return comment.id;
  }

  /** A person removes a label from an issue (sends issues.unlabeled). */
  removeLabel(login: string, number: number, label: string): void {
    const issue = this.state.issues.get(number)!;
    issue.labels = issue.labels.filter((l) => l !== label);
    this.webhooks.send(
      'issues',
      'unlabeled',
      { issue: this.state.renderIssue(issue), label: this.state.renderLabel(label) },
      this.state.user(login),
    );
  }

  /** A person presses "Merge pull request" (through the REST endpoint, as `gh pr merge` would). */
  async mergePullRequest(login: string, number: number): Promise<ApiResponse> {
    return this.#call(login, 'PUT', `/pulls/${number}/merge`, { merge_method: 'merge' });
  }

  /** A person submits a review of a pull request (`REQUEST_CHANGES`, `COMMENT`, `APPROVE`), with inline comments. */
  async review(
    login: string,
    number: number,
    review: { event: 'REQUEST_CHANGES' | 'COMMENT' | 'APPROVE'; body?: string; comments?: { path: string; line: number; body: string }[] },
  ): Promise<ApiResponse> {
    return this.#call(login, 'POST', `/pulls/${number}/reviews`, review);
  }

  /** A person writes one inline comment on a pull request. */
  async reviewComment(login: string, number: number, comment: { path: string; line: number; body: string }): Promise<ApiResponse> {
    return this.#call(login, 'POST', `/pulls/${number}/comments`, comment);
  }

  /**
   * CI (GitHub Actions, unless another `app` is named) finishes its checks on the head commit
   * of `branch`: the suite and its jobs with their logs are recorded, check_run.completed is
   * sent for each job and then check_suite.completed, naming the open pull requests from that
   * branch. With `running: true` only the jobs' events are sent and the suite stays in
   * progress (as while other jobs still run): `finishCheckSuite` completes it later.
   */
  async completeCheckSuite(
    branch: string,
    suite: {
      conclusion: 'success' | 'failure' | 'timed_out';
      app?: { id: number; slug: string; name: string };
      runs: { name: string; conclusion: 'success' | 'failure' | 'timed_out'; log: string }[];
      running?: boolean;
    },
  ): Promise<number> {
    const headSha = (await this.repo.sha(`refs/heads/${branch}`))!;
    const record: CheckSuiteRecord = {
      id: this.state.id(8_000_000_000),
      headBranch: branch,
      headSha,
      conclusion: suite.conclusion,
      app: suite.app ?? { id: 15368, slug: 'github-actions', name: 'GitHub Actions' },
      runs: suite.runs.map((r) => ({ ...r, id: this.state.id(9_000_000_000) })),
      createdAt: this.state.stamp(),
      completed: false,
    };
    this.state.checkSuites.set(record.id, record);
    const bot = this.state.user('github-actions[bot]', 'Bot');
    for (const run of record.runs)
      this.webhooks.send('check_run', 'completed', { check_run: this.state.renderCheckRunEvent(record, run) }, bot);
    if (!suite.running) this.finishCheckSuite(record.id);
    return record.id;
  }

  /** The suite's last job is done: check_suite.completed. */
  finishCheckSuite(id: number): void {
    const record = this.state.checkSuites.get(id)!;
    record.completed = true;
    this.webhooks.send(
      'check_suite',
      'completed',
      { check_suite: this.state.renderCheckSuite(record) },
      this.state.user('github-actions[bot]', 'Bot'),
    );
  }

  /** A person closes a pull request without merging it. */
  async closePullRequest(login: string, number: number): Promise<ApiResponse> {
    return this.#call(login, 'PATCH', `/pulls/${number}`, { state: 'closed' });
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
  }

  async #call(login: string, method: string, path: string, body: unknown): Promise<ApiResponse> {
    const token = `gho_person${randomBytes(8).toString('hex')}`;
    this.#tokens.set(token, { actor: this.state.user(login), kind: 'installation' });
    try {
      const res = await fetch(`${this.apiUrl}/repos/${this.#options.owner}/${this.#options.repo}${path}`, {
        method,
        headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    } finally {
      this.#tokens.delete(token);
    }
  }

  // --- HTTP ----------------------------------------------------------------------------

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.webUrl);
    const git = /^\/([^/]+)\/([^/]+)\.git(\/.*)$/.exec(url.pathname);
    if (git) return this.#git(req, res, url, git[1]!, git[2]!, git[3]!);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const method = req.method ?? 'GET';
    const path = url.pathname.startsWith('/api/v3') ? url.pathname.slice('/api/v3'.length) || '/' : url.pathname;
    const auth = /^(?:token|bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? null;
    let answer: ApiResponse;
    let actor: string | null = null;
    const at = Date.now();
    const isGraphql = method === 'POST' && url.pathname === '/api/graphql';
    let gqlBody: { query?: unknown; variables?: unknown } = {};
    try {
      gqlBody = isGraphql && raw ? JSON.parse(raw) : {};
    } catch {
      // answered below as GitHub answers a body that is not JSON
    }
    const graphql = isGraphql ? (summarise(gqlBody) ?? undefined) : undefined;
    const by = this.#whose(method, path, auth, raw);
    try {
      let fault = this.#faults.find(
        (f) =>
          f.left > 0 &&
          (!f.method || f.method === method) &&
          f.path.test(path) &&
          (!f.graphql || (isGraphql && f.graphql.test(String(gqlBody.query ?? '')))),
      );
      if (fault && fault.skip > 0) {
        fault.skip--;
        fault = undefined;
      }
      if (fault) fault.left--;
      if (fault?.onStrike) await fault.onStrike();
      const token = auth ? this.#tokens.get(auth) : undefined;
      const limited = !fault || fault.executed ? this.#secondaryLimit(token?.actor.login ?? null, method, path, graphql) : null;
      const faulted = fault
        ? {
            status: fault.status,
            json: fault.body ?? { message: fault.status === 403 ? 'You have exceeded a secondary rate limit.' : 'Server Error' },
            headers: fault.headers,
          }
        : null;
      if (limited) {
        answer = limited;
      } else if (faulted && !fault!.executed) {
        answer = faulted;
      } else if (method === 'GET' && path === `${OIDC_PATH}/.well-known/jwks`) {
        answer = { status: 200, json: this.#oidc.jwks() };
      } else if (method === 'GET' && path === `${OIDC_PATH}/request`) {
        const run = auth ? this.#oidcRequests.get(auth) : undefined;
        answer = run
          ? {
              status: 200,
              json: {
                value: await this.#oidc.sign(
                  {
                    owner: this.state.owner,
                    repo: this.state.repo,
                    repositoryId: Number(this.state.renderRepository().id),
                    workflowPath: run.path,
                    ref: `refs/heads/${run.headBranch}`,
                    runId: run.id,
                    actor: run.actor.login,
                  },
                  url.searchParams.get('audience') ?? this.webUrl,
                ),
              },
            }
          : { status: 401, json: { message: 'Bad credentials' } };
      } else if (method === 'DELETE' && path === '/installation/token') {
        // An installation token revokes itself (the polecat action, once its work is done).
        if (token?.kind === 'installation' && auth) {
          this.#tokens.delete(auth);
          const scoped = this.#scoped.get(auth);
          if (scoped) scoped.revoked = true;
          answer = { status: 204 };
        } else answer = { status: 401, json: { message: 'Bad credentials' } };
      } else if (method === 'POST' && /^\/app\/installations\/(\d+)\/access_tokens$/.test(path)) {
        answer = this.#accessToken(auth, Number(path.split('/')[3]), raw ? JSON.parse(raw) : {});
      } else if (method === 'GET' && path === '/app') {
        // `apps.getAuthenticated`, with the app's JWT: the app learns its own bot login (`<slug>[bot]`).
        answer =
          auth && this.#jwtValid(auth)
            ? {
                status: 200,
                json: {
                  id: this.#options.appId,
                  slug: 'gastown',
                  node_id: `A_${this.#options.appId}`,
                  name: 'Gas Town',
                  owner: this.state.renderUser(this.state.user(this.#options.owner)),
                  html_url: `${this.webUrl}/apps/gastown`,
                  permissions: {
                    issues: 'write',
                    pull_requests: 'write',
                    contents: 'write',
                    actions: 'write',
                    checks: 'write',
                    metadata: 'read',
                  },
                  events: ['issues', 'issue_comment', 'pull_request', 'workflow_run'],
                  installations_count: 1,
                },
              }
            : { status: 401, json: { message: 'A JSON web token could not be decoded', status: '401' } };
      } else if (
        method === 'GET' &&
        path.toLowerCase() === `/repos/${this.#options.owner}/${this.#options.repo}/installation`.toLowerCase()
      ) {
        // `apps.getRepoInstallation`, with the app's JWT (the Slack bot finds a repository's installation so).
        answer =
          auth && this.#jwtValid(auth)
            ? {
                status: 200,
                json: {
                  id: this.installationId,
                  app_id: this.#options.appId,
                  app_slug: 'gastown',
                  target_type: 'User',
                  account: this.state.renderUser(this.state.user(this.#options.owner)),
                  repository_selection: 'all',
                  permissions: {
                    issues: 'write',
                    pull_requests: 'write',
                    contents: 'write',
                    actions: 'write',
                    checks: 'write',
                    metadata: 'read',
                  },
                  events: ['issues', 'issue_comment', 'pull_request', 'workflow_run'],
                },
              }
            : { status: 401, json: { message: 'A JSON web token could not be decoded', status: '401' } };
      } else {
        actor = token?.actor.login ?? null;
        if (!token)
          answer = { status: 401, json: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' } };
        else if (isGraphql) {
          let parsed: unknown = null;
          try {
            parsed = raw ? JSON.parse(raw) : {};
          } catch {
            parsed = null;
          }
          const gql =
            parsed === null
              ? { status: 400, json: { message: 'Problems parsing JSON', documentation_url: 'https://docs.github.com/graphql' } }
              : await answerGraphql(
                  { state: this.state, repo: this.repo, webhooks: this.webhooks, actor: token.actor, kind: token.kind },
                  parsed as object,
                );
          answer = { status: gql.status, json: gql.json };
        } else if (url.pathname.startsWith('/api/v3/')) {
          const body = raw ? JSON.parse(raw) : undefined;
          answer = await answerRest(this, {
            method,
            path,
            query: url.searchParams,
            headers: req.headers,
            body,
            actor: token.actor,
            kind: token.kind,
            url: url.toString(),
          });
        } else answer = notFound();
        if (faulted) answer = faulted;
      }
    } catch (err) {
      answer = { status: 500, json: { message: `GitHub double: ${(err as Error).stack ?? err}` } };
    }
    this.requests.push({ method, path, status: answer.status, actor, at, by, ...(graphql ? { graphql } : {}) });
    if (by === 'job' && path === `${OIDC_PATH}/request` && answer.status === 200) this.#exchanges.push({ at: Date.now(), seen: new Set() });
    this.#lastRequestAt = Date.now();
    const headers: Record<string, string> = {
      'x-github-request-id': randomBytes(6).toString('hex'),
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4999',
      ...(answer.headers ?? {}),
    };
    if (answer.text !== undefined) {
      res.writeHead(answer.status, headers).end(answer.text);
    } else if (answer.json !== undefined) {
      res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(answer.json));
    } else {
      res.writeHead(answer.status, headers).end();
    }
  }

  /**
   * Smart HTTP for the repository (`/<owner>/<repo>.git/…`), by `git http-backend`; the body
   * streams through, so it is not read here as the API's are.
   */
  async #git(req: IncomingMessage, res: ServerResponse, url: URL, owner: string, repo: string, rest: string): Promise<void> {
    const at = Date.now();
    const method = req.method ?? 'GET';
    const service = url.searchParams.get('service') ?? /^\/(git-[a-z-]+)$/.exec(rest)?.[1] ?? '';
    const basic = /^basic\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const token = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':').slice(1).join(':') : null;
    const actor = token ? (this.#tokens.get(token)?.actor.login ?? null) : null;
    let status: number;
    // A token given must be one the double issued. None given is let in: git sends the
    // credentials of a URL only after a 401, so asking for them would cost every git call a
    // round trip (the app's fetches and pushes) that the measurements would count.
    if (token !== null && actor === null) {
      req.resume();
      status = 401;
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Basic realm="GitHub"' }).end('Invalid username or token.\n');
    } else if (
      // GitHub's names are not case-sensitive; the one repository here is the only one served.
      owner.toLowerCase() !== this.#options.owner.toLowerCase() ||
      repo.toLowerCase() !== this.#options.repo.toLowerCase()
    ) {
      req.resume();
      status = 404;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Repository not found.\n');
    } else {
      const projectRoot = this.repo.path.slice(0, -`/${this.#options.owner}/${this.#options.repo}.git`.length);
      const pathInfo = `/${this.#options.owner}/${this.#options.repo}.git${rest}`;
      status = await serveGitHttp({ projectRoot, pathInfo, query: url.search.slice(1), user: actor }, req, res);
    }
    this.gitRequests.push({ method, path: rest, service, status, actor, agent: req.headers['user-agent'] ?? '', at });
    this.#lastRequestAt = Date.now();
  }

  /** Whose work a request is (RecordedRequest.by), told before it is answered. */
  #whose(method: string, path: string, auth: string | null, raw: string): RecordedRequest['by'] {
    if (path === `${OIDC_PATH}/request`) return 'job';
    if (auth && (this.#scoped.has(auth) || this.#tokens.get(auth)?.kind === 'run')) return 'job';
    const token = auth ? this.#tokens.get(auth) : undefined;
    if (token && token.actor.login !== this.app.login) return 'person';
    const step = EXCHANGE_STEPS.findIndex(([m, re]) => m === method && re.test(path));
    if (step < 0) return 'app';
    const minting = method === 'POST' && /"(repository_ids|permissions)"/.test(raw);
    // An exchange the app refused mints nothing: forgotten after a while.
    const now = Date.now();
    const exchange = this.#exchanges.find((e) => now - e.at < 30_000 && !e.seen.has(String(step)));
    // The app's own token (an unscoped mint) is never the exchange's.
    if (!exchange || (method === 'POST' && !minting)) return 'app';
    exchange.seen.add(String(step));
    if (minting) this.#exchanges.splice(this.#exchanges.indexOf(exchange), 1);
    return 'app-for-job';
  }

  /** A 403 when this request would pass the secondary rate limit (and it is not counted); null when it may run (and it is counted). */
  #secondaryLimit(actor: string | null, method: string, path: string, graphql: GraphqlSummary | undefined): ApiResponse | null {
    const limit = this.secondaryRateLimit;
    const creating = graphql ? graphql.type === 'mutation' : method === 'POST' && CONTENT_CREATING.test(path);
    if (!limit || !actor || !creating) return null;
    const now = Date.now();
    const times = (this.#created.get(actor) ?? []).filter((t) => t > now - limit.windowMs);
    this.#created.set(actor, times);
    if (times.length >= limit.max) {
      const retryAfter = Math.max(1, Math.ceil((times[0]! + limit.windowMs - now) / 1000));
      return {
        status: 403,
        json: {
          message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
          documentation_url: 'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits',
          status: '403',
        },
        headers: { 'retry-after': String(retryAfter) },
      };
    }
    times.push(now);
    return null;
  }

  /** `POST /app/installations/:id/access_tokens` with the app's JWT (verified when the public key is known). */
  #accessToken(
    jwt: string | null,
    installationId: number,
    body: { repository_ids?: number[]; permissions?: Record<string, string> },
  ): ApiResponse {
    if (!jwt || !this.#jwtValid(jwt)) return { status: 401, json: { message: 'A JSON web token could not be decoded', status: '401' } };
    if (installationId !== this.installationId) return notFound();
    const token = `ghs_${randomBytes(18).toString('hex')}`;
    this.#tokens.set(token, { actor: this.app, kind: 'installation' });
    // A scope asked for is recorded (the double does not enforce it).
    if (body.repository_ids || body.permissions) {
      const record = { repository_ids: body.repository_ids, permissions: body.permissions, revoked: false };
      this.scopedTokens.push(record);
      this.#scoped.set(token, record);
    }
    const expires = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return {
      status: 201,
      json: {
        token,
        expires_at: expires,
        permissions: {
          ...(body.permissions ?? { issues: 'write', pull_requests: 'write', contents: 'write', actions: 'write', checks: 'write' }),
          metadata: 'read',
        },
        repository_selection: body.repository_ids ? 'selected' : 'all',
      },
    };
  }

  #jwtValid(jwt: string): boolean {
    const [header, payload, signature] = jwt.split('.');
    if (!header || !payload || !signature) return false;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iss?: unknown; exp?: number };
    if (String(claims.iss) !== String(this.#options.appId)) return false;
    if (!this.#options.appPublicKey) return true;
    return verify(
      'RSA-SHA256',
      Buffer.from(`${header}.${payload}`),
      createPublicKey(this.#options.appPublicKey),
      Buffer.from(signature, 'base64url'),
    );
  }
}
