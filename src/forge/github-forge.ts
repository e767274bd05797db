/**
 * The GitHub adapter of the forge port, over one installation's Octokit. One instance per
 * webhook delivery (no shared state between installations); it caches what it has read
 * during that delivery so a convoy costs one sub-issue listing, not one search per bead.
 *
 * Requests per new bead: 1 create + 1 sub-issue link + 1 per blocked-by edge. Per convoy:
 * 1 sub-issue listing (paginated) + 1 to 3 for the status comment; a convoy recorded by this
 * delivery skips the listing and, when `prime` was given the issue's comments, the comment
 * lookup too (1 request for the status comment).
 */
import type { Logger } from 'pino';
import type { ProbotOctokit } from 'probot';
import { GastownError } from '../errors.js';
import type { Bead } from '../town/types.js';
import type { DispatchWorkflowInput, ForgeLink, ForgePort, OpenPullRequestInput } from './forge-port.js';
import { renderBeadIssueBody, renderBeadIssueTitle } from './render-bead-issue.js';
import { parseBeadMarker } from '../town/ids.js';
import { statusMarkerOf } from './status-marker.js';

type Octokit = InstanceType<typeof ProbotOctokit>;

export interface GitHubForgeOptions {
  octokit: Octokit;
  owner: string;
  repo: string;
  log?: Logger;
}

interface KnownIssue {
  link: ForgeLink & { id: number };
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
  /** Sub-issues per parent number, listed once per delivery. */
  readonly #children = new Map<number, Promise<Children>>();
  /** Every issue seen this delivery, by number. */
  readonly #issues = new Map<number, KnownIssue>();
  /** Blocker ids per child number, once known. */
  readonly #blockers = new Map<number, Set<number>>();
  /** Comments per issue number, when this delivery already listed them. */
  readonly #comments = new Map<number, { id: number; body?: string | null }[]>();

  constructor(options: GitHubForgeOptions) {
    this.#octokit = options.octokit;
    this.#owner = options.owner;
    this.#repo = options.repo;
    this.#log = options.log;
  }

  prime(issueNumber: number, known: { children?: 'none'; comments?: { id: number; body?: string | null }[] }): void {
    if (known.children === 'none' && !this.#children.has(issueNumber))
      this.#children.set(issueNumber, Promise.resolve({ byBead: new Map(), numbers: new Set() }));
    if (known.comments) this.#comments.set(issueNumber, known.comments);
  }

  async ensureChildIssue(bead: Bead, parent: ForgeLink, labels: string[]): Promise<ForgeLink> {
    const children = await this.#listChildren(parent.number);
    if (bead.issue) {
      const listed = this.#issues.get(bead.issue.number);
      return listed ? listed.link : bead.issue;
    }
    const found = children.byBead.get(bead.id);
    if (found) return found.link;

    const { data } = await this.#call('create issue', () =>
      this.#octokit.rest.issues.create({
        owner: this.#owner,
        repo: this.#repo,
        title: renderBeadIssueTitle(bead),
        body: renderBeadIssueBody(bead, parent),
        labels,
      }),
    );
    const link = { number: data.number, id: data.id, url: data.html_url };
    // A new issue has no dependencies yet: ensureBlockedBy need not list them. It carries the
    // bead's marker, so asking again in this delivery finds it before it is a sub-issue.
    const created: KnownIssue = { link, totalBlockedBy: 0 };
    this.#issues.set(link.number, created);
    children.byBead.set(bead.id, created);
    this.#blockers.set(link.number, new Set());
    this.#log?.info({ bead: bead.id, issue: link.number }, 'Created child issue');
    return link;
  }

  async ensureSubIssue(parent: ForgeLink, child: ForgeLink): Promise<void> {
    const children = await this.#listChildren(parent.number);
    if (children.numbers.has(child.number)) return;
    const childId = await this.#issueId(child);
    try {
      await this.#octokit.rest.issues.addSubIssue({
        owner: this.#owner,
        repo: this.#repo,
        issue_number: parent.number,
        sub_issue_id: childId,
      });
    } catch (err) {
      if (!isAlreadyDone(err)) throw forgeError('add sub-issue', err);
    }
    children.numbers.add(child.number);
  }

  async ensureBlockedBy(child: ForgeLink, blocker: ForgeLink): Promise<void> {
    const blockers = await this.#blockersOf(child);
    const blockerId = await this.#issueId(blocker);
    if (blockers.has(blockerId)) return;
    try {
      await this.#octokit.rest.issues.addBlockedByDependency({
        owner: this.#owner,
        repo: this.#repo,
        issue_number: child.number,
        issue_id: blockerId,
      });
    } catch (err) {
      if (!isAlreadyDone(err)) throw forgeError('add blocked-by dependency', err);
    }
    blockers.add(blockerId);
  }

  async ensureStatusComment(parentIssueNumber: number, markdown: string, knownCommentId?: number | null): Promise<number> {
    const marker = statusMarkerOf(markdown);
    let existing: { id: number; body: string } | null = null;
    if (knownCommentId != null) existing = await this.#getComment(knownCommentId, marker);
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
      return data.id;
    }
    if (existing.body.replace(/\r\n/g, '\n').trim() !== markdown.trim()) {
      const id = existing.id;
      await this.#call('edit status comment', () =>
        this.#octokit.rest.issues.updateComment({ owner: this.#owner, repo: this.#repo, comment_id: id, body: markdown }),
      );
    }
    return existing.id;
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

  #listChildren(parentNumber: number): Promise<Children> {
    let pending = this.#children.get(parentNumber);
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

/** A coded error that names the operation and the HTTP status, never the request headers. */
function forgeError(what: string, err: unknown): GastownError {
  if (err instanceof GastownError) return err;
  const status = statusOf(err);
  const detail = status !== undefined ? `HTTP ${status}` : (err as Error).message;
  return new GastownError('gastown_forge', `GitHub refused to ${what} (${detail})`, { status, operation: what }, { cause: err });
}
