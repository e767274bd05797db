/**
 * What the double's GitHub knows about its one repository: issues (with labels, sub-issues
 * and blocked-by edges), comments, pull requests, workflow runs and collaborators; and how
 * each looks in a REST answer or a webhook (the shapes of `@octokit/webhooks-examples`,
 * fields the double keeps state for overwritten).
 */
import { examplePayload, type Rehost } from './example-payload.js';

export type Permission = 'admin' | 'maintain' | 'write' | 'triage' | 'read';

export interface Actor {
  login: string;
  id: number;
  type: 'User' | 'Bot';
  /** Set when the actor is the GitHub App: what it writes carries `performed_via_github_app`. */
  appId?: number;
}

export interface IssueRecord {
  number: number;
  id: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  stateReason: 'completed' | 'not_planned' | 'reopened' | null;
  labels: string[];
  user: Actor;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  parent: number | null;
  subIssues: number[];
  /** Numbers of the issues blocking this one. */
  blockedBy: number[];
  comments: number;
  viaApp: number | null;
}

export interface CommentRecord {
  id: number;
  issue: number;
  body: string;
  user: Actor;
  createdAt: string;
  updatedAt: string;
  viaApp: number | null;
}

export interface PullRecord {
  number: number;
  id: number;
  title: string;
  body: string | null;
  head: string;
  base: string;
  headSha: string;
  baseSha: string;
  state: 'open' | 'closed';
  merged: boolean;
  mergedAt: string | null;
  mergeSha: string | null;
  mergedBy: Actor | null;
  draft: boolean;
  user: Actor;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
}

/** A submitted pull request review, with its inline comments. */
export interface ReviewRecord {
  id: number;
  pull: number;
  user: Actor;
  body: string | null;
  /** GitHub's REST spelling: CHANGES_REQUESTED, COMMENTED, APPROVED. */
  state: 'CHANGES_REQUESTED' | 'COMMENTED' | 'APPROVED';
  commitId: string;
  submittedAt: string;
}

/** An inline comment on a pull request (part of a review, or on its own). */
export interface ReviewCommentRecord {
  id: number;
  pull: number;
  review: number;
  path: string;
  line: number | null;
  body: string;
  user: Actor;
  commitId: string;
  createdAt: string;
}

/** A completed check suite on a commit (CI), with its check runs (jobs) and their logs. */
export interface CheckSuiteRecord {
  id: number;
  headBranch: string;
  headSha: string;
  conclusion: 'success' | 'failure' | 'timed_out';
  /** The app that made the checks (GitHub Actions, or another app such as this one). */
  app: { id: number; slug: string; name: string };
  runs: { id: number; name: string; conclusion: 'success' | 'failure' | 'timed_out'; log: string }[];
  createdAt: string;
  /** False while other jobs of the suite still run (its runs' events are sent, not the suite's). */
  completed?: boolean;
}

export interface RunRecord {
  id: number;
  runNumber: number;
  workflowId: number;
  name: string;
  displayTitle: string;
  path: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: 'success' | 'failure' | 'cancelled' | null;
  headBranch: string;
  headSha: string;
  inputs: Record<string, string>;
  actor: Actor;
  createdAt: string;
  updatedAt: string;
  /** When the job started and ended (ms since the epoch), for tests about parallel runs. */
  startedMs: number | null;
  endedMs: number | null;
  /** Each step's name, exit code and output (for a test that wants to know why a run failed). */
  steps: { name: string; code: number; output: string }[];
}

export interface LabelRecord {
  id: number;
  nodeId: string;
  name: string;
  color: string;
  description: string | null;
}

export class GitHubState {
  readonly issues = new Map<number, IssueRecord>();
  readonly comments = new Map<number, CommentRecord>();
  readonly pulls = new Map<number, PullRecord>();
  readonly reviews = new Map<number, ReviewRecord>();
  readonly reviewComments = new Map<number, ReviewCommentRecord>();
  readonly checkSuites = new Map<number, CheckSuiteRecord>();
  readonly runs = new Map<number, RunRecord>();
  readonly collaborators = new Map<string, Permission>();
  readonly users = new Map<string, Actor>();
  /** The repository's labels by lower-cased name (names are case-insensitive on GitHub). */
  readonly labels = new Map<string, LabelRecord>();
  /**
   * Branch protection's "require branches to be up to date before merging": an open pull
   * request whose head lacks the base's tip is then `mergeable_state: behind`.
   */
  requireUpToDate = false;
  /** Repository variables (`vars.*` in workflows). */
  readonly variables = new Map<string, string>();
  #nextNumber = 1;
  #nextId = 1;

  constructor(
    readonly owner: string,
    readonly repo: string,
    readonly hosts: Rehost,
    readonly now: () => Date = () => new Date(),
  ) {}

  id(base: number): number {
    return base + this.#nextId++;
  }

  /** Issues and pull requests share one number sequence, as on GitHub. */
  nextNumber(): number {
    return this.#nextNumber++;
  }

  stamp(): string {
    return this.now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  }

  user(login: string, type: Actor['type'] = 'User', appId?: number): Actor {
    let actor = this.users.get(login);
    if (!actor) {
      actor = { login, id: this.id(20_000_000), type, ...(appId !== undefined ? { appId } : {}) };
      this.users.set(login, actor);
    }
    return actor;
  }

  issueByNumber(number: number): IssueRecord | undefined {
    return this.issues.get(number);
  }

  issueById(id: number): IssueRecord | undefined {
    return [...this.issues.values()].find((i) => i.id === id);
  }

  createIssue(user: Actor, input: { title: string; body?: string | null; labels?: string[] }): IssueRecord {
    const at = this.stamp();
    const issue: IssueRecord = {
      number: this.nextNumber(),
      id: this.id(3_000_000_000),
      title: input.title,
      body: input.body ?? null,
      state: 'open',
      stateReason: null,
      labels: [...new Set((input.labels ?? []).map((l) => this.label(l).name))],
      user,
      createdAt: at,
      updatedAt: at,
      closedAt: null,
      parent: null,
      subIssues: [],
      blockedBy: [],
      comments: 0,
      viaApp: user.appId ?? null,
    };
    this.issues.set(issue.number, issue);
    return issue;
  }

  // --- rendering: REST answers and webhook objects ---------------------------------------

  get repoApi(): string {
    return `${this.hosts.apiUrl}/repos/${this.owner}/${this.repo}`;
  }

  get repoWeb(): string {
    return `${this.hosts.webUrl}/${this.owner}/${this.repo}`;
  }

  renderUser(actor: Actor): Record<string, unknown> {
    const template = examplePayload('issues', 'opened', this.hosts).sender;
    const path = actor.type === 'Bot' ? `${encodeURIComponent(actor.login)}` : actor.login;
    return {
      ...template,
      login: actor.login,
      id: actor.id,
      node_id: `U_${actor.id}`,
      avatar_url: `${this.hosts.webUrl}/avatars/${actor.id}`,
      url: `${this.hosts.apiUrl}/users/${path}`,
      html_url: `${this.hosts.webUrl}/${path}`,
      type: actor.type,
      site_admin: false,
    };
  }

  renderRepository(): Record<string, unknown> {
    const template = examplePayload('issues', 'opened', this.hosts).repository;
    return {
      ...template,
      name: this.repo,
      full_name: `${this.owner}/${this.repo}`,
      owner: { ...template.owner, ...this.renderUser(this.user(this.owner)) },
      html_url: this.repoWeb,
      url: this.repoApi,
      node_id: this.repoNodeId,
      default_branch: 'main',
      private: true,
      visibility: 'private',
    };
  }

  /** The repository's node id (GraphQL `repository.id`, REST `node_id`). */
  get repoNodeId(): string {
    return String(examplePayload('issues', 'opened', this.hosts).repository.node_id);
  }

  findLabel(name: string): LabelRecord | undefined {
    return this.labels.get(name.toLowerCase());
  }

  labelByNodeId(nodeId: string): LabelRecord | undefined {
    return [...this.labels.values()].find((l) => l.nodeId === nodeId);
  }

  createLabel(name: string, color = 'ededed', description: string | null = null): LabelRecord {
    const id = this.id(7_000_000);
    const label = { id, nodeId: `LA_${id}`, name, color, description };
    this.labels.set(name.toLowerCase(), label);
    return label;
  }

  /** A label by name, created (grey, as REST's issue and label calls do) when the repository has none. */
  label(name: string): LabelRecord {
    return this.findLabel(name) ?? this.createLabel(name);
  }

  renderLabel(name: string): Record<string, unknown> {
    const label = this.label(name);
    return {
      id: label.id,
      node_id: label.nodeId,
      url: `${this.repoApi}/labels/${encodeURIComponent(label.name)}`,
      name: label.name,
      color: label.color,
      default: false,
      description: label.description,
    };
  }

  renderApp(appId: number): Record<string, unknown> {
    return {
      id: appId,
      slug: 'gastown',
      node_id: `A_${appId}`,
      name: 'Gas Town',
      owner: this.renderUser(this.user(this.owner)),
      html_url: `${this.hosts.webUrl}/apps/gastown`,
    };
  }

  renderIssue(issue: IssueRecord): Record<string, unknown> {
    const template = examplePayload('issues', 'opened', this.hosts).issue;
    const url = `${this.repoApi}/issues/${issue.number}`;
    const pull = this.pulls.get(issue.number);
    const subs = issue.subIssues.map((n) => this.issues.get(n)!);
    const blocking = [...this.issues.values()].filter((i) => i.blockedBy.includes(issue.number));
    const rendered: Record<string, unknown> = {
      ...template,
      id: issue.id,
      node_id: `I_${issue.id}`,
      url,
      repository_url: this.repoApi,
      labels_url: `${url}/labels{/name}`,
      comments_url: `${url}/comments`,
      events_url: `${url}/events`,
      html_url: `${this.repoWeb}/${pull ? 'pull' : 'issues'}/${issue.number}`,
      number: issue.number,
      state: issue.state,
      state_reason: issue.stateReason,
      title: issue.title,
      body: issue.body,
      user: this.renderUser(issue.user),
      labels: issue.labels.map((l) => this.renderLabel(l)),
      assignee: null,
      assignees: [],
      milestone: null,
      locked: false,
      comments: issue.comments,
      created_at: issue.createdAt,
      updated_at: issue.updatedAt,
      closed_at: issue.closedAt,
      author_association: this.association(issue.user),
      performed_via_github_app: issue.viaApp !== null ? this.renderApp(issue.viaApp) : null,
      sub_issues_summary: {
        total: subs.length,
        completed: subs.filter((s) => s.state === 'closed').length,
        percent_completed: subs.length ? Math.round((100 * subs.filter((s) => s.state === 'closed').length) / subs.length) : 0,
      },
      parent_issue_url: issue.parent !== null ? `${this.repoApi}/issues/${issue.parent}` : null,
      issue_dependencies_summary: {
        blocked_by: issue.blockedBy.filter((n) => this.issues.get(n)?.state === 'open').length,
        total_blocked_by: issue.blockedBy.length,
        blocking: blocking.filter((i) => i.state === 'open').length,
        total_blocking: blocking.length,
      },
    };
    if (pull)
      rendered.pull_request = {
        url: `${this.repoApi}/pulls/${pull.number}`,
        html_url: `${this.repoWeb}/pull/${pull.number}`,
        diff_url: null,
        patch_url: null,
        merged_at: pull.mergedAt,
      };
    else delete rendered.pull_request;
    return rendered;
  }

  renderComment(comment: CommentRecord): Record<string, unknown> {
    const template = examplePayload('issue_comment', 'created', this.hosts).comment;
    return {
      ...template,
      id: comment.id,
      node_id: `IC_${comment.id}`,
      url: `${this.repoApi}/issues/comments/${comment.id}`,
      html_url: `${this.repoWeb}/issues/${comment.issue}#issuecomment-${comment.id}`,
      issue_url: `${this.repoApi}/issues/${comment.issue}`,
      body: comment.body,
      user: this.renderUser(comment.user),
      created_at: comment.createdAt,
      updated_at: comment.updatedAt,
      author_association: this.association(comment.user),
      performed_via_github_app: comment.viaApp !== null ? this.renderApp(comment.viaApp) : null,
    };
  }

  renderPull(pull: PullRecord): Record<string, unknown> {
    const template = examplePayload('pull_request', 'opened', this.hosts).pull_request;
    const url = `${this.repoApi}/pulls/${pull.number}`;
    const repository = this.renderRepository();
    const ref = (branch: string, sha: string) => ({
      label: `${this.owner}:${branch}`,
      ref: branch,
      sha,
      user: this.renderUser(this.user(this.owner)),
      repo: repository,
    });
    return {
      ...template,
      url,
      id: pull.id,
      node_id: `PR_${pull.id}`,
      html_url: `${this.repoWeb}/pull/${pull.number}`,
      diff_url: `${this.repoWeb}/pull/${pull.number}.diff`,
      patch_url: `${this.repoWeb}/pull/${pull.number}.patch`,
      issue_url: `${this.repoApi}/issues/${pull.number}`,
      number: pull.number,
      state: pull.state,
      title: pull.title,
      user: this.renderUser(pull.user),
      body: pull.body,
      labels: [],
      created_at: pull.createdAt,
      updated_at: pull.updatedAt,
      closed_at: pull.closedAt,
      merged_at: pull.mergedAt,
      merge_commit_sha: pull.mergeSha,
      head: ref(pull.head, pull.headSha),
      base: ref(pull.base, pull.baseSha),
      draft: pull.draft,
      merged: pull.merged,
      merged_by: pull.mergedBy ? this.renderUser(pull.mergedBy) : null,
      mergeable: pull.state === 'open' ? true : null,
      author_association: this.association(pull.user),
      commits_url: `${url}/commits`,
      review_comments_url: `${url}/comments`,
      comments_url: `${this.repoApi}/issues/${pull.number}/comments`,
      statuses_url: `${this.repoApi}/statuses/${pull.headSha}`,
    };
  }

  renderReview(review: ReviewRecord): Record<string, unknown> {
    const template = examplePayload('pull_request_review', 'submitted', this.hosts).review;
    const html = `${this.repoWeb}/pull/${review.pull}#pullrequestreview-${review.id}`;
    return {
      ...template,
      id: review.id,
      node_id: `PRR_${review.id}`,
      user: this.renderUser(review.user),
      body: review.body,
      commit_id: review.commitId,
      submitted_at: review.submittedAt,
      // Webhooks spell the state in lower case; the REST API in upper case.
      state: review.state.toLowerCase(),
      html_url: html,
      pull_request_url: `${this.repoApi}/pulls/${review.pull}`,
      author_association: this.association(review.user),
      _links: { html: { href: html }, pull_request: { href: `${this.repoApi}/pulls/${review.pull}` } },
    };
  }

  renderReviewComment(comment: ReviewCommentRecord): Record<string, unknown> {
    const template = examplePayload('pull_request_review_comment', 'created', this.hosts).comment;
    return {
      ...template,
      url: `${this.repoApi}/pulls/comments/${comment.id}`,
      id: comment.id,
      node_id: `PRRC_${comment.id}`,
      pull_request_review_id: comment.review,
      path: comment.path,
      line: comment.line,
      original_line: comment.line,
      side: 'RIGHT',
      commit_id: comment.commitId,
      original_commit_id: comment.commitId,
      user: this.renderUser(comment.user),
      body: comment.body,
      created_at: comment.createdAt,
      updated_at: comment.createdAt,
      html_url: `${this.repoWeb}/pull/${comment.pull}#discussion_r${comment.id}`,
      pull_request_url: `${this.repoApi}/pulls/${comment.pull}`,
      author_association: this.association(comment.user),
    };
  }

  renderCheckSuite(suite: CheckSuiteRecord): Record<string, unknown> {
    const template = examplePayload('check_suite', 'completed', this.hosts).check_suite;
    const repository = this.renderRepository() as { id: number; url: string; name: string };
    const repo = { id: repository.id, url: repository.url, name: repository.name };
    const pulls = [...this.pulls.values()].filter((p) => p.state === 'open' && p.head === suite.headBranch);
    return {
      ...template,
      id: suite.id,
      node_id: `CS_${suite.id}`,
      head_branch: suite.headBranch,
      head_sha: suite.headSha,
      status: suite.completed === false ? 'in_progress' : 'completed',
      conclusion: suite.completed === false ? null : suite.conclusion,
      url: `${this.repoApi}/check-suites/${suite.id}`,
      after: suite.headSha,
      pull_requests: pulls.map((p) => ({
        url: `${this.repoApi}/pulls/${p.number}`,
        id: p.id,
        number: p.number,
        head: { ref: p.head, sha: suite.headSha, repo },
        base: { ref: p.base, sha: p.baseSha, repo },
      })),
      app: { ...template.app, id: suite.app.id, slug: suite.app.slug, name: suite.app.name },
      created_at: suite.createdAt,
      updated_at: suite.createdAt,
      latest_check_runs_count: suite.runs.length,
      check_runs_url: `${this.repoApi}/check-suites/${suite.id}/check-runs`,
    };
  }

  /** A check run as check_run webhooks carry it: with its suite and the pull requests of its head. */
  renderCheckRunEvent(suite: CheckSuiteRecord, run: CheckSuiteRecord['runs'][number]): Record<string, unknown> {
    const template = examplePayload('check_run', 'completed', this.hosts).check_run;
    const rendered = this.renderCheckSuite(suite) as { pull_requests: unknown[]; app: object };
    return {
      ...this.renderCheckRun(suite, run),
      pull_requests: rendered.pull_requests,
      check_suite: { ...template.check_suite, ...rendered },
      app: rendered.app,
    };
  }

  renderCheckRun(suite: CheckSuiteRecord, run: CheckSuiteRecord['runs'][number]): Record<string, unknown> {
    return {
      id: run.id,
      node_id: `CR_${run.id}`,
      head_sha: suite.headSha,
      external_id: String(run.id),
      url: `${this.repoApi}/check-runs/${run.id}`,
      html_url: `${this.repoWeb}/actions/runs/${suite.id}/job/${run.id}`,
      details_url: `${this.repoWeb}/actions/runs/${suite.id}/job/${run.id}`,
      status: 'completed',
      conclusion: run.conclusion,
      started_at: suite.createdAt,
      completed_at: suite.createdAt,
      output: {
        title: null,
        summary: null,
        text: null,
        annotations_count: 0,
        annotations_url: `${this.repoApi}/check-runs/${run.id}/annotations`,
      },
      name: run.name,
      check_suite: { id: suite.id },
      app: { id: suite.app.id, slug: suite.app.slug, name: suite.app.name },
      pull_requests: [],
    };
  }

  renderRun(run: RunRecord): Record<string, unknown> {
    const template = examplePayload('workflow_run', 'completed', this.hosts).workflow_run;
    const url = `${this.repoApi}/actions/runs/${run.id}`;
    return {
      ...template,
      id: run.id,
      node_id: `WFR_${run.id}`,
      name: run.name,
      display_title: run.displayTitle,
      path: run.path,
      head_branch: run.headBranch,
      head_sha: run.headSha,
      run_number: run.runNumber,
      run_attempt: 1,
      event: 'workflow_dispatch',
      status: run.status,
      conclusion: run.conclusion,
      workflow_id: run.workflowId,
      url,
      html_url: `${this.repoWeb}/actions/runs/${run.id}`,
      jobs_url: `${url}/jobs`,
      logs_url: `${url}/logs`,
      workflow_url: `${this.repoApi}/actions/workflows/${run.workflowId}`,
      pull_requests: [],
      created_at: run.createdAt,
      updated_at: run.updatedAt,
      run_started_at: run.createdAt,
      actor: this.renderUser(run.actor),
      triggering_actor: this.renderUser(run.actor),
      repository: this.renderRepository(),
      head_repository: this.renderRepository(),
    };
  }

  association(actor: Actor): string {
    if (actor.login === this.owner) return 'OWNER';
    return this.collaborators.has(actor.login) ? 'COLLABORATOR' : 'NONE';
  }
}
