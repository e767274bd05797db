/**
 * The GitHub adapter of the forge port, over one installation's Octokit. One instance per
 * webhook delivery (no shared state between installations); it caches what it has read
 * during that delivery so a convoy costs one sub-issue listing, not one search per bead.
 *
 * Child issues and blocked-by edges go through GraphQL (`github-graphql.ts`): `createIssue`
 * with `parentIssueId` and `labelIds` makes a labelled sub-issue in one mutation, and ten
 * mutations share one request. Requests per convoy of n beads and e edges: 1 lookup of node
 * ids (repository, parent, labels; plus one `createLabel` batch the first time a repository
 * meets our labels) + ⌈n/10⌉ creations + ⌈e/10⌉ edge batches + 1 sub-issue listing
 * (paginated) + 1 to 3 for the status comment; a convoy recorded by this delivery skips the
 * listing and, when `prime` was given the issue's comments, the comment lookup too (1
 * request for the status comment).
 *
 * Creating is the one write that is not idempotent by itself, so it is never retried blind:
 * Octokit's retry is off for it, and after a server error or a lost answer (GitHub may have
 * created the issues) the parent's sub-issues are listed again and only the beads still
 * without an issue (found by the hidden marker) are created.
 */
import type { Logger } from 'pino';
import type { ProbotOctokit } from 'probot';
import { GastownError } from '../errors.js';
import type { Bead } from '../town/types.js';
import type {
  BlockedByEdge,
  ChildIssueInput,
  DispatchWorkflowInput,
  ForgeLink,
  ForgePort,
  OpenPullRequestInput,
  WorkflowRunSummary,
  ReviewComment,
} from './forge-port.js';
import {
  batchMutation,
  chunks,
  ISSUE_FIELDS,
  issuesQuery,
  sendGraphql,
  targetsQuery,
  type GraphqlFieldError,
  type IssueNode,
} from './github-graphql.js';
import { renderBeadIssueBody, renderBeadIssueTitle } from './render-bead-issue.js';
import { parseBeadMarker, findMarker } from '../town/ids.js';
import { statusMarkerOf } from './status-marker.js';

type Octokit = InstanceType<typeof ProbotOctokit>;

/**
 * What the forge may keep of status comments between deliveries: the body this process last
 * wrote or read, by comment id. With it, a status that changed is edited at once (one
 * request, not a read and an edit); an unchanged one is still read, so another writer's
 * newer text is seen.
 */
export interface CommentBodies {
  get(commentId: number): string | undefined;
  set(commentId: number, body: string): void;
}

export interface GitHubForgeOptions {
  octokit: Octokit;
  owner: string;
  repo: string;
  log?: Logger;
  comments?: CommentBodies;
}

/** Attempts at creating a batch of issues (each after listing the parent's sub-issues again). */
const CREATE_ATTEMPTS = 3;
/** Colour of a label the app creates (GitHub's grey, as for labels made by the REST API). */
const LABEL_COLOR = 'ededed';

interface KnownIssue {
  link: ForgeLink & { id: number };
  /** GraphQL node id, when known. */
  nodeId?: string;
  /** `issue_dependencies_summary.total_blocked_by` when the listing gave it. */
  totalBlockedBy: number | null;
}

interface Children {
  byBead: Map<string, KnownIssue>;
  numbers: Set<number>;
}

export class GitHubForge implements ForgePort {
  readonly hostsPullRequests = true;
  readonly #octokit: Octokit;
  readonly #owner: string;
  readonly #repo: string;
  readonly #log: Logger | undefined;
  readonly #bodies: CommentBodies | undefined;
  /** Sub-issues per parent number, listed once per delivery. */
  readonly #children = new Map<number, Promise<Children>>();
  /** Every issue seen this delivery, by number. */
  readonly #issues = new Map<number, KnownIssue>();
  /** Blocker ids per child number, once known. */
  readonly #blockers = new Map<number, Set<number>>();
  /** Comments per issue number, when this delivery already listed them. */
  readonly #comments = new Map<number, { id: number; body?: string | null }[]>();
  /** Node ids of the repository, parents and labels (by lower-cased name), once looked up. */
  #repositoryId: string | null = null;
  readonly #parentIds = new Map<number, string>();
  readonly #labelIds = new Map<string, string>();

  constructor(options: GitHubForgeOptions) {
    this.#octokit = options.octokit;
    this.#owner = options.owner;
    this.#repo = options.repo;
    this.#log = options.log;
    this.#bodies = options.comments;
  }

  prime(issueNumber: number, known: { children?: 'none'; comments?: { id: number; body?: string | null }[] }): void {
    if (known.children === 'none' && !this.#children.has(issueNumber))
      this.#children.set(issueNumber, Promise.resolve({ byBead: new Map(), numbers: new Set() }));
    if (known.comments) this.#comments.set(issueNumber, known.comments);
  }

  async ensureChildIssues(
    parent: ForgeLink,
    items: ChildIssueInput[],
    recordLink: (beadId: string, link: ForgeLink) => Promise<void>,
  ): Promise<ForgeLink[]> {
    let children = await this.#listChildren(parent.number);
    const links: (ForgeLink | null)[] = items.map(() => null);
    const unlinked: number[] = [];
    const missing: number[] = [];
    for (const [i, { bead }] of items.entries()) {
      if (bead.issue) {
        links[i] = this.#issues.get(bead.issue.number)?.link ?? bead.issue;
        if (!children.numbers.has(links[i]!.number)) unlinked.push(i);
        continue;
      }
      const found = children.byBead.get(bead.id);
      if (found) {
        links[i] = found.link;
        await recordLink(bead.id, found.link);
      } else missing.push(i);
    }

    for (const batch of chunks(missing)) {
      let todo = batch;
      for (let attempt = 1; todo.length > 0; attempt++) {
        let created: Map<number, ForgeLink>;
        let refused: GraphqlFieldError[] = [];
        try {
          ({ created, refused } = await this.#createIssues(
            parent,
            todo.map((i) => items[i]!),
          ));
        } catch (err) {
          // A server error or a lost answer: GitHub may have created some of them. Look again.
          if (attempt >= CREATE_ATTEMPTS || !isTransient(err)) throw forgeError('create child issues', err);
          this.#log?.warn(
            { parent: parent.number, attempt, ...describeFailure(err) },
            'Creating child issues failed; listing the sub-issues again',
          );
          children = await this.#listChildren(parent.number, true);
          created = new Map(
            todo.flatMap((i, k) => {
              const found = children.byBead.get(items[i]!.bead.id);
              return found ? [[k, found.link] as const] : [];
            }),
          );
        }
        for (const [k, link] of created) {
          const i = todo[k]!;
          links[i] = link;
          children.numbers.add(link.number);
          // Known by its bead from now on, so asking again in this delivery (before the link
          // reached the ledger) finds it instead of making a second issue.
          const known = this.#issues.get(link.number);
          if (known && !children.byBead.has(items[i]!.bead.id)) children.byBead.set(items[i]!.bead.id, known);
          await recordLink(items[i]!.bead.id, link);
        }
        // GitHub refused some (and said so): what it created is recorded; the rest is for the retry.
        if (refused.length > 0) throw graphqlError('create child issues', refused);
        todo = todo.filter((i) => links[i] === null);
      }
    }

    if (unlinked.length > 0)
      await this.#addSubIssues(
        parent,
        unlinked.map((i) => links[i]!),
      );
    for (const i of unlinked) children.numbers.add(links[i]!.number);
    return links as ForgeLink[];
  }

  async ensureBlockedBy(edges: BlockedByEdge[]): Promise<void> {
    const todo: { edge: BlockedByEdge; blockers: Set<number>; blockerId: number }[] = [];
    for (const edge of edges) {
      const blockers = await this.#blockersOf(edge.child);
      const blockerId = await this.#issueId(edge.blocker);
      if (!blockers.has(blockerId) && !todo.some((t) => t.edge.child.number === edge.child.number && t.blockerId === blockerId))
        todo.push({ edge, blockers, blockerId });
    }
    if (todo.length === 0) return;
    const nodes = await this.#nodeIds(todo.flatMap((t) => [t.edge.child, t.edge.blocker]));
    for (const batch of chunks(todo)) {
      const query = batchMutation(
        'gastownBlockedBy',
        'addBlockedBy',
        'AddBlockedByInput',
        'issue { number } blockingIssue { number }',
        batch.length,
        'b',
      );
      const vars = Object.fromEntries(
        batch.map((t, i) => [`b${i}`, { issueId: nodes.get(t.edge.child.number)!, blockingIssueId: nodes.get(t.edge.blocker.number)! }]),
      );
      const { data, errors } = await this.#call('add blocked-by dependencies', () =>
        sendGraphql<Record<string, unknown>>(this.#octokit, query, vars),
      );
      const failed = new Set<number>();
      for (const error of errors) {
        const i = aliasIndex(error, 'b');
        // Already there (another delivery, or a retry after a lost answer): what we wanted.
        if (i !== null && /already exists|duplicate/i.test(error.message)) continue;
        if (i !== null) failed.add(i);
        else throw graphqlError('add blocked-by dependencies', errors);
      }
      for (const [i, t] of batch.entries())
        if (!failed.has(i) && (data?.[`b${i}`] != null || errors.some((e) => aliasIndex(e, 'b') === i))) t.blockers.add(t.blockerId);
      if (failed.size > 0)
        throw graphqlError(
          'add blocked-by dependencies',
          errors.filter((e) => failed.has(aliasIndex(e, 'b') ?? -1)),
        );
    }
  }

  async removeBlockedBy(edges: BlockedByEdge[]): Promise<void> {
    for (const edge of edges) {
      // Only edges GitHub shows are removed: the listing is one request per child, cached.
      const blockers = await this.#blockersOf(edge.child);
      const blockerId = await this.#issueId(edge.blocker);
      if (!blockers.has(blockerId)) continue;
      try {
        await this.#octokit.rest.issues.removeDependencyBlockedBy({
          owner: this.#owner,
          repo: this.#repo,
          issue_number: edge.child.number,
          issue_id: blockerId,
        });
      } catch (err) {
        // 404: removed meanwhile (another delivery, or a person): what we wanted.
        if (statusOf(err) !== 404) throw forgeError('remove blocked-by dependency', err);
      }
      blockers.delete(blockerId);
    }
  }

  async ensureIssueText(issueNumber: number, text: { title: string; body: string }): Promise<void> {
    const { data } = await this.#call('get issue', () =>
      this.#octokit.rest.issues.get({ owner: this.#owner, repo: this.#repo, issue_number: issueNumber }),
    );
    if (data.title === text.title && sameBody(data.body ?? '', text.body)) return;
    await this.#call('edit issue', () =>
      this.#octokit.rest.issues.update({
        owner: this.#owner,
        repo: this.#repo,
        issue_number: issueNumber,
        title: text.title,
        body: text.body,
      }),
    );
  }

  async ensureStatusComment(parentIssueNumber: number, markdown: string, knownCommentId?: number | null): Promise<number> {
    const marker = statusMarkerOf(markdown);
    let existing: { id: number; body: string } | null = null;
    if (knownCommentId != null) {
      const last = this.#bodies?.get(knownCommentId);
      // Last written (or read) by this process and different now: edit at once. A comment
      // deleted since answers 404, and is then looked for by its marker as below.
      if (last !== undefined && !sameBody(last, markdown) && (await this.#editComment(knownCommentId, markdown))) return knownCommentId;
      existing = await this.#getComment(knownCommentId, marker);
    }
    if (existing === null) existing = await this.#findComment(parentIssueNumber, marker);
    if (existing === null) {
      const { data } = await this.#call('create status comment', () =>
        this.#octokit.rest.issues.createComment({
          owner: this.#owner,
          repo: this.#repo,
          issue_number: parentIssueNumber,
          body: markdown,
        }),
      );
      this.#bodies?.set(data.id, markdown);
      return data.id;
    }
    if (!sameBody(existing.body, markdown)) {
      const id = existing.id;
      await this.#call('edit status comment', () =>
        this.#octokit.rest.issues.updateComment({ owner: this.#owner, repo: this.#repo, comment_id: id, body: markdown }),
      );
    }
    this.#bodies?.set(existing.id, markdown);
    return existing.id;
  }

  /** Edits a comment; false when it is gone (404). */
  async #editComment(commentId: number, body: string): Promise<boolean> {
    try {
      await this.#octokit.rest.issues.updateComment({ owner: this.#owner, repo: this.#repo, comment_id: commentId, body });
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw forgeError('edit status comment', err);
    }
    this.#bodies?.set(commentId, body);
    return true;
  }

  async setLabels(issueNumber: number, change: { add?: string[]; remove?: string[] }): Promise<void> {
    const add = change.add ?? [];
    if (add.length > 0) {
      await this.#call('add labels', () =>
        this.#octokit.rest.issues.addLabels({ owner: this.#owner, repo: this.#repo, issue_number: issueNumber, labels: add }),
      );
    }
    for (const name of change.remove ?? []) {
      try {
        await this.#octokit.rest.issues.removeLabel({ owner: this.#owner, repo: this.#repo, issue_number: issueNumber, name });
      } catch (err) {
        if (statusOf(err) !== 404) throw forgeError('remove label', err);
      }
    }
  }

  async comment(issueNumber: number, body: string): Promise<number> {
    const { data } = await this.#call('comment', () =>
      this.#octokit.rest.issues.createComment({ owner: this.#owner, repo: this.#repo, issue_number: issueNumber, body }),
    );
    return data.id;
  }

  async reviewComments(pullNumber: number, reviewId: number): Promise<ReviewComment[]> {
    const { data } = await this.#call('list review comments', () =>
      this.#octokit.rest.pulls.listCommentsForReview({
        owner: this.#owner,
        repo: this.#repo,
        pull_number: pullNumber,
        review_id: reviewId,
        per_page: 100,
      }),
    );
    return data.map((c) => ({
      path: c.path,
      line: (c as { line?: number | null }).line ?? null,
      body: c.body,
      author: c.user?.login ?? 'ghost',
    }));
  }

  async closeIssue(issueNumber: number, reason: 'completed' | 'not_planned' = 'completed'): Promise<void> {
    await this.#call('close issue', () =>
      this.#octokit.rest.issues.update({
        owner: this.#owner,
        repo: this.#repo,
        issue_number: issueNumber,
        state: 'closed',
        state_reason: reason,
      }),
    );
  }

  async deleteBranch(branch: string): Promise<void> {
    try {
      await this.#octokit.rest.git.deleteRef({ owner: this.#owner, repo: this.#repo, ref: `heads/${branch}` });
    } catch (err) {
      // 422 "Reference does not exist": deleted already (a redelivery, or GitHub's own auto-delete).
      if (statusOf(err) === 422) return;
      throw forgeError('delete branch', err);
    }
  }

  async openPullRequest(input: OpenPullRequestInput): Promise<ForgeLink> {
    const existing = await this.#findPullRequest(input.head);
    if (existing) return existing;
    try {
      const { data } = await this.#octokit.rest.pulls.create({ owner: this.#owner, repo: this.#repo, ...input });
      return { number: data.number, id: data.id, url: data.html_url };
    } catch (err) {
      // Lost a race with another delivery that opened it a moment ago.
      if (isAlreadyDone(err)) {
        const raced = await this.#findPullRequest(input.head);
        if (raced) return raced;
      }
      throw forgeError('open pull request', err);
    }
  }

  async cancelWorkflowRuns(workflow: string): Promise<number[]> {
    const cancelled: number[] = [];
    for (const status of ['in_progress', 'queued'] as const) {
      const runs = await this.#call('list workflow runs', () =>
        this.#octokit.paginate(this.#octokit.rest.actions.listWorkflowRuns, {
          owner: this.#owner,
          repo: this.#repo,
          workflow_id: workflow,
          status,
          per_page: 100,
        }),
      );
      for (const run of runs) {
        try {
          await this.#octokit.rest.actions.cancelWorkflowRun({ owner: this.#owner, repo: this.#repo, run_id: run.id });
          cancelled.push(run.id);
        } catch (err) {
          // 409: it completed between the listing and the cancel, which is what we wanted.
          if (statusOf(err) !== 409) throw forgeError('cancel workflow run', err);
        }
      }
    }
    return cancelled;
  }

  async workflowRunsSince(workflow: string, since: string): Promise<WorkflowRunSummary[]> {
    const from = Date.parse(since);
    return this.#call('list workflow runs', () =>
      // Newest first: the listing stops at the first page that reaches back past `since`.
      this.#octokit.paginate(
        this.#octokit.rest.actions.listWorkflowRuns,
        // GitHub's search syntax takes whole seconds (`>=2026-05-01T10:00:00Z`); the filter below is exact.
        { owner: this.#owner, repo: this.#repo, workflow_id: workflow, created: `>=${since.replace(/\.\d+Z$/, 'Z')}`, per_page: 100 },
        (response, done) => {
          const runs = response.data.map((r) => ({ id: r.id, title: r.display_title, createdAt: r.created_at }));
          if (runs.some((r) => Date.parse(r.createdAt) < from)) done();
          return runs.filter((r) => Date.parse(r.createdAt) >= from);
        },
      ),
    );
  }

  async dispatchWorkflow(input: DispatchWorkflowInput): Promise<void> {
    await this.#call('dispatch workflow', () =>
      this.#octokit.rest.actions.createWorkflowDispatch({
        owner: this.#owner,
        repo: this.#repo,
        workflow_id: input.workflow,
        ref: input.ref,
        inputs: input.inputs,
      }),
    );
  }

  #listChildren(parentNumber: number, again = false): Promise<Children> {
    let pending = again ? undefined : this.#children.get(parentNumber);
    if (!pending) {
      pending = this.#call('list sub-issues', async () => {
        const items = await this.#octokit.paginate(this.#octokit.rest.issues.listSubIssues, {
          owner: this.#owner,
          repo: this.#repo,
          issue_number: parentNumber,
          per_page: 100,
        });
        const children: Children = { byBead: new Map(), numbers: new Set() };
        for (const item of items) {
          const summary = (item as { issue_dependencies_summary?: { total_blocked_by?: number } }).issue_dependencies_summary;
          const known: KnownIssue = {
            link: { number: item.number, id: item.id, url: item.html_url },
            nodeId: item.node_id,
            totalBlockedBy: typeof summary?.total_blocked_by === 'number' ? summary.total_blocked_by : null,
          };
          children.numbers.add(item.number);
          this.#issues.set(item.number, known);
          const marked = parseBeadMarker(item.body);
          if (marked && !children.byBead.has(marked)) children.byBead.set(marked, known);
        }
        return children;
      });
      this.#children.set(parentNumber, pending);
    }
    return pending;
  }

  /**
   * One `createIssue` mutation per item, as sub-issues of `parent` with their labels, in one
   * request (never retried blind: see the class comment). Returns the created links by index
   * in `items`, and GitHub's errors for the ones it refused.
   */
  async #createIssues(
    parent: ForgeLink,
    items: ChildIssueInput[],
  ): Promise<{ created: Map<number, ForgeLink>; refused: GraphqlFieldError[] }> {
    const ids = await this.#targets(parent.number, [...new Set(items.flatMap((it) => it.labels))]);
    const query = batchMutation('gastownCreateIssues', 'createIssue', 'CreateIssueInput', `issue { ${ISSUE_FIELDS} }`, items.length, 'i');
    const vars = Object.fromEntries(
      items.map((it, i) => [
        `i${i}`,
        {
          repositoryId: ids.repositoryId,
          parentIssueId: ids.parentId,
          title: renderBeadIssueTitle(it.bead),
          body: renderBeadIssueBody(it.bead, parent),
          labelIds: it.labels.map((l) => ids.labels.get(l.toLowerCase())!),
        },
      ]),
    );
    const { data, errors } = await sendGraphql<Record<string, { issue: IssueNode | null } | null>>(this.#octokit, query, vars, {
      retry: false,
    });
    const created = new Map<number, ForgeLink>();
    for (const [i, it] of items.entries()) {
      const node = data?.[`i${i}`]?.issue;
      if (!node) continue;
      const link = { number: node.number, id: Number(node.fullDatabaseId), url: node.url };
      // A new issue has no dependencies yet: ensureBlockedBy need not list them.
      this.#issues.set(link.number, { link, nodeId: node.id, totalBlockedBy: 0 });
      this.#blockers.set(link.number, new Set());
      created.set(i, link);
      this.#log?.info({ bead: it.bead.id, issue: link.number }, 'Created child issue');
    }
    const refused = errors.length === 0 && created.size < items.length ? [{ message: 'the answer lacks some of the new issues' }] : errors;
    if (refused.length > 0 && created.size === 0) throw graphqlError('create child issues', refused);
    return { created, refused };
  }

  /** Links existing issues to `parent` as sub-issues (an issue recorded in the ledger but not linked). */
  async #addSubIssues(parent: ForgeLink, children: ForgeLink[]): Promise<void> {
    const { parentId } = await this.#targets(parent.number, []);
    const nodes = await this.#nodeIds(children);
    for (const batch of chunks(children)) {
      const query = batchMutation('gastownSubIssues', 'addSubIssue', 'AddSubIssueInput', 'subIssue { number }', batch.length, 's');
      const vars = Object.fromEntries(batch.map((c, i) => [`s${i}`, { issueId: parentId, subIssueId: nodes.get(c.number)! }]));
      const { errors } = await this.#call('add sub-issues', () => sendGraphql(this.#octokit, query, vars));
      const real = errors.filter((e) => !/duplicate|already/i.test(e.message));
      if (real.length > 0) throw graphqlError('add sub-issues', real);
    }
  }

  /**
   * Node ids for mutations: the repository, the parent issue and each label, in one query;
   * labels the repository does not have yet are created (once per repository, in one batch).
   */
  async #targets(parentNumber: number, labels: string[]): Promise<{ repositoryId: string; parentId: string; labels: Map<string, string> }> {
    const unknown = labels.filter((l) => !this.#labelIds.has(l.toLowerCase()));
    if (this.#repositoryId === null || !this.#parentIds.has(parentNumber) || unknown.length > 0) {
      const vars: Record<string, unknown> = { owner: this.#owner, repo: this.#repo, parent: parentNumber };
      unknown.forEach((l, i) => (vars[`l${i}`] = l));
      type Targets = {
        repository: ({ id: string; parent: { id: string } | null } & Record<string, { id: string; name: string } | null>) | null;
      };
      const { data, errors } = await this.#call('look up node ids', () =>
        sendGraphql<Targets>(this.#octokit, targetsQuery(unknown.length), vars),
      );
      const repository = data?.repository;
      if (!repository?.parent) throw graphqlError('look up node ids', errors.length ? errors : [{ message: `no issue #${parentNumber}` }]);
      this.#repositoryId = repository.id;
      this.#parentIds.set(parentNumber, repository.parent.id);
      unknown.forEach((l, i) => {
        const found = repository[`l${i}`] as { id: string } | null;
        if (found) this.#labelIds.set(l.toLowerCase(), found.id);
      });
      await this.#createLabels(unknown.filter((l) => !this.#labelIds.has(l.toLowerCase())));
    }
    return {
      repositoryId: this.#repositoryId!,
      parentId: this.#parentIds.get(parentNumber)!,
      labels: new Map(labels.map((l) => [l.toLowerCase(), this.#labelIds.get(l.toLowerCase())!])),
    };
  }

  async #createLabels(names: string[]): Promise<void> {
    if (names.length === 0) return;
    const query = batchMutation('gastownLabels', 'createLabel', 'CreateLabelInput', 'label { id name }', names.length, 'c');
    const vars = Object.fromEntries(names.map((name, i) => [`c${i}`, { repositoryId: this.#repositoryId, name, color: LABEL_COLOR }]));
    type Created = Record<string, { label: { id: string; name: string } | null } | null>;
    const { data, errors } = await this.#call('create labels', () => sendGraphql<Created>(this.#octokit, query, vars));
    names.forEach((name, i) => {
      const label = data?.[`c${i}`]?.label;
      if (label) this.#labelIds.set(name.toLowerCase(), label.id);
    });
    const left = names.filter((n) => !this.#labelIds.has(n.toLowerCase()));
    if (left.length === 0) return;
    // Made meanwhile by another delivery ("Name has already been taken"): read their ids.
    if (!errors.every((e) => /already been taken|already exists/i.test(e.message))) throw graphqlError('create labels', errors);
    type Found = { repository: Record<string, { id: string } | null> | null };
    const again = await this.#call('look up labels', () =>
      sendGraphql<Found>(
        this.#octokit,
        `query gastownLabelIds($owner: String!, $repo: String!${left.map((_, i) => `, $l${i}: String!`).join('')}) {\n  repository(owner: $owner, name: $repo) {\n${left.map((_, i) => `    l${i}: label(name: $l${i}) { id }`).join('\n')}\n  }\n}`,
        {
          owner: this.#owner,
          repo: this.#repo,
          ...Object.fromEntries(left.map((l, i) => [`l${i}`, l])),
        },
      ),
    );
    left.forEach((name, i) => {
      const label = again.data?.repository?.[`l${i}`];
      if (!label)
        throw new GastownError('gastown_forge', `GitHub could neither create nor find the label ${name}`, { operation: 'create labels' });
      this.#labelIds.set(name.toLowerCase(), label.id);
    });
  }

  /** Node ids of issues by number: known ones from this delivery, the rest in one query. */
  async #nodeIds(links: ForgeLink[]): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    const unknown: number[] = [];
    for (const link of links) {
      const nodeId = this.#issues.get(link.number)?.nodeId;
      if (nodeId) out.set(link.number, nodeId);
      else if (!unknown.includes(link.number)) unknown.push(link.number);
    }
    for (const batch of chunks(unknown, 50)) {
      const vars = { owner: this.#owner, repo: this.#repo, ...Object.fromEntries(batch.map((n, i) => [`n${i}`, n])) };
      const { data, errors } = await this.#call('look up issues', () =>
        sendGraphql<{ repository: Record<string, IssueNode | null> | null }>(this.#octokit, issuesQuery(batch.length), vars),
      );
      batch.forEach((n, i) => {
        const node = data?.repository?.[`n${i}`];
        if (!node) throw graphqlError('look up issues', errors.length ? errors : [{ message: `no issue #${n}` }]);
        out.set(n, node.id);
        const known = this.#issues.get(n);
        if (known) known.nodeId = node.id;
        else
          this.#issues.set(n, {
            link: { number: n, id: Number(node.fullDatabaseId), url: node.url },
            nodeId: node.id,
            totalBlockedBy: null,
          });
      });
    }
    return out;
  }

  async #blockersOf(child: ForgeLink): Promise<Set<number>> {
    const cached = this.#blockers.get(child.number);
    if (cached) return cached;
    const set = new Set<number>();
    // The listing's summary says whether there is anything to read: skip the request if not.
    if (this.#issues.get(child.number)?.totalBlockedBy !== 0) {
      const items = await this.#call('list blocked-by dependencies', () =>
        this.#octokit.paginate(this.#octokit.rest.issues.listDependenciesBlockedBy, {
          owner: this.#owner,
          repo: this.#repo,
          issue_number: child.number,
          per_page: 100,
        }),
      );
      for (const item of items) set.add(item.id);
    }
    this.#blockers.set(child.number, set);
    return set;
  }

  async #issueId(link: ForgeLink): Promise<number> {
    if (link.id !== undefined) return link.id;
    const known = this.#issues.get(link.number);
    if (known) return known.link.id;
    const { data } = await this.#call('get issue', () =>
      this.#octokit.rest.issues.get({ owner: this.#owner, repo: this.#repo, issue_number: link.number }),
    );
    return data.id;
  }

  async #getComment(commentId: number, marker: string): Promise<{ id: number; body: string } | null> {
    try {
      const { data } = await this.#octokit.rest.issues.getComment({ owner: this.#owner, repo: this.#repo, comment_id: commentId });
      // A recorded id that now holds something else (deleted and reused) does not count.
      return data.body?.includes(marker) ? { id: data.id, body: data.body } : null;
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw forgeError('get status comment', err);
    }
  }

  async #findComment(issueNumber: number, marker: string): Promise<{ id: number; body: string } | null> {
    const primed = this.#comments.get(issueNumber);
    if (primed) {
      // Used once: after this delivery writes a comment the listing is out of date.
      this.#comments.delete(issueNumber);
      const hit = primed.find((c) => c.body?.includes(marker));
      return hit ? { id: hit.id, body: hit.body ?? '' } : null;
    }
    const comments = await this.#call('list comments', () =>
      this.#octokit.paginate(this.#octokit.rest.issues.listComments, {
        owner: this.#owner,
        repo: this.#repo,
        issue_number: issueNumber,
        per_page: 100,
      }),
    );
    const found = comments.find((c) => c.body?.includes(marker));
    return found ? { id: found.id, body: found.body ?? '' } : null;
  }

  async #findPullRequest(head: string): Promise<ForgeLink | null> {
    const { data } = await this.#call('list pull requests', () =>
      this.#octokit.rest.pulls.list({ owner: this.#owner, repo: this.#repo, head: `${this.#owner}:${head}`, state: 'open' }),
    );
    const pr = data[0];
    return pr ? { number: pr.number, id: pr.id, url: pr.html_url } : null;
  }

  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw forgeError(what, err);
    }
  }
}

/** Comment bodies compared as GitHub stores them (it keeps `\r\n`, we write `\n`). */
function sameBody(a: string, b: string): boolean {
  return a.replace(/\r\n/g, '\n').trim() === b.replace(/\r\n/g, '\n').trim();
}

function statusOf(err: unknown): number | undefined {
  const status = (err as { status?: unknown }).status;
  return typeof status === 'number' ? status : undefined;
}

/**
 * GitHub answers 422 when a sub-issue, dependency or pull request already exists. It gives no
 * error code, so the message is the only signal; anything else on 422 (such as a child that
 * already has another parent) stays an error.
 */
function isAlreadyDone(err: unknown): boolean {
  if (statusOf(err) !== 422) return false;
  const text = JSON.stringify((err as { response?: { data?: unknown } }).response?.data ?? '') + String((err as Error).message);
  return /already exists|duplicate/i.test(text);
}

/** A server error, a timeout or a connection lost: GitHub may or may not have done the work. */
function isTransient(err: unknown): boolean {
  const status = statusOf(err);
  return status === undefined ? !(err instanceof GastownError) : status >= 500;
}

function describeFailure(err: unknown): { status?: number; message: string } {
  const status = statusOf(err);
  return status !== undefined ? { status, message: `HTTP ${status}` } : { message: (err as Error).message };
}

/** The index in a batch that a GraphQL error names by its alias (`i3` → 3), or null. */
function aliasIndex(error: GraphqlFieldError, prefix: string): number | null {
  const m = new RegExp(`^${prefix}(\\d+)$`).exec(String(error.path?.[0] ?? ''));
  return m ? Number(m[1]) : null;
}

/** GitHub's GraphQL errors as one coded error (types and messages, which name no secrets). */
function graphqlError(what: string, errors: GraphqlFieldError[]): GastownError {
  const detail = errors
    .slice(0, 3)
    .map((e) => (e.type ? `${e.type}: ${e.message}` : e.message))
    .join('; ');
  return new GastownError('gastown_forge', `GitHub refused to ${what} (${detail || 'no data'})`, {
    operation: what,
    errors: errors.slice(0, 10),
  });
}

/** A coded error that names the operation and the HTTP status, never the request headers. */
function forgeError(what: string, err: unknown): GastownError {
  if (err instanceof GastownError) return err;
  const status = statusOf(err);
  const detail = status !== undefined ? `HTTP ${status}` : (err as Error).message;
  return new GastownError('gastown_forge', `GitHub refused to ${what} (${detail})`, { status, operation: what }, { cause: err });
}
