/**
 * GitHub's answers to the forge's GraphQL for nock tests (strict, one interceptor per
 * expected request, so `pendingMocks()` still says what was not asked): the node-id lookup,
 * `createLabel`, `createIssue` and `addBlockedBy` batches, each answered from the request's
 * own variables, and recorded. Node ids: the repository `R_repo`, issue #n `I_<n>`, label
 * `LA_<name>`.
 */
import nock from 'nock';

export const REPO_NODE = 'R_repo';
export const issueNode = (n: number) => `I_${n}`;
const numberOfNode = (id: unknown) => Number(/^I_(\d+)$/.exec(String(id))?.[1] ?? NaN);

export interface CreatedIssue {
  number: number;
  id: number;
  title: string;
  body: string;
  labels: string[];
  parent: number | null;
}

/** GitHub's issues as the app created them through GraphQL. */
export class GraphqlIssues {
  readonly created: CreatedIssue[] = [];
  readonly edges: [child: number, blocker: number][] = [];
  readonly labelsCreated: string[] = [];
  /** Operation names, in the order they were answered. */
  readonly operations: string[] = [];
  next: number;

  constructor(
    opts: { next?: number } = {},
    /** REST id of issue #n. */
    readonly idOf: (n: number) => number = (n) => 1000 + n,
  ) {
    this.next = opts.next ?? 2;
  }

  numberOf(title: string): number {
    const found = this.created.find((c) => c.title === title);
    if (!found) throw new Error(`no issue titled ${title}`);
    return found.number;
  }

  /** The lookup of the repository, the parent #`parent` and the labels; `missing` labels answer null. */
  mockTargets(scope: nock.Scope, opts: { parent?: number; missing?: string[] } = {}): void {
    scope
      .post('/graphql', (b: any) => /^query gastownTargets\b/.test(b.query) && b.variables.parent === (opts.parent ?? 1))
      .reply(200, (_u, body: any) => {
        this.operations.push('targets');
        const repository: Record<string, unknown> = { id: REPO_NODE, parent: { id: issueNode(body.variables.parent) } };
        for (const [key, name] of Object.entries(body.variables as Record<string, unknown>))
          if (/^l\d+$/.test(key)) repository[key] = (opts.missing ?? []).includes(String(name)) ? null : { id: `LA_${name}`, name };
        return { data: { repository } };
      });
  }

  mockCreateLabels(scope: nock.Scope): void {
    scope
      .post('/graphql', (b: any) => /^mutation gastownLabels\b/.test(b.query))
      .reply(200, (_u, body: any) => {
        this.operations.push('createLabel');
        const data: Record<string, unknown> = {};
        for (const [alias, input] of Object.entries(body.variables as Record<string, any>)) {
          if (input.repositoryId !== REPO_NODE) throw new Error(`createLabel in ${input.repositoryId}`);
          this.labelsCreated.push(input.name);
          data[alias] = { label: { id: `LA_${input.name}`, name: input.name } };
        }
        return { data };
      });
  }

  /**
   * One `createIssue` batch. `refuse` answers the issues with those titles (and every one
   * after the first refused, as a timed-out request would) with a GraphQL error; `status`
   * answers the whole request with that HTTP status, creating nothing.
   */
  mockCreateIssues(scope: nock.Scope, opts: { status?: number; refuse?: string[]; check?: (titles: string[]) => void } = {}): void {
    scope
      .post('/graphql', (b: any) => /^mutation gastownCreateIssues\b/.test(b.query))
      .reply((_u, body: any) => {
        this.operations.push('createIssue');
        const inputs = Object.entries(body.variables as Record<string, any>);
        opts.check?.(inputs.map(([, input]) => input.title));
        if (opts.status) return [opts.status, { message: 'Server Error' }];
        const data: Record<string, unknown> = {};
        const errors: unknown[] = [];
        let refusing = false;
        for (const [alias, input] of inputs) {
          if (input.repositoryId !== REPO_NODE) throw new Error(`createIssue in ${input.repositoryId}`);
          refusing ||= (opts.refuse ?? []).includes(input.title);
          if (refusing) {
            data[alias] = null;
            errors.push({
              type: 'INTERNAL',
              path: [alias],
              message: 'Something went wrong while executing your query. This may be the result of a timeout.',
            });
            continue;
          }
          const number = this.next++;
          const parent = input.parentIssueId ? numberOfNode(input.parentIssueId) : null;
          const labels = (input.labelIds ?? []).map((id: string) => id.replace(/^LA_/, ''));
          this.created.push({ number, id: this.idOf(number), title: input.title, body: input.body, labels, parent });
          data[alias] = {
            issue: {
              id: issueNode(number),
              fullDatabaseId: String(this.idOf(number)),
              number,
              url: `https://github.com/Codertocat/Hello-World/issues/${number}`,
            },
          };
        }
        return [200, errors.length ? { data, errors } : { data }];
      });
  }

  /** One `addBlockedBy` batch. */
  mockBlockedBy(scope: nock.Scope): void {
    scope
      .post('/graphql', (b: any) => /^mutation gastownBlockedBy\b/.test(b.query))
      .reply(200, (_u, body: any) => {
        this.operations.push('addBlockedBy');
        const data: Record<string, unknown> = {};
        for (const [alias, input] of Object.entries(body.variables as Record<string, any>)) {
          const child = numberOfNode(input.issueId);
          const blocker = numberOfNode(input.blockingIssueId);
          this.edges.push([child, blocker]);
          data[alias] = { issue: { number: child }, blockingIssue: { number: blocker } };
        }
        return { data };
      });
  }

  /** The node ids of issues known by number (a convoy resumed from the ledger). */
  mockIssueIds(scope: nock.Scope): void {
    scope
      .post('/graphql', (b: any) => /^query gastownIssueIds\b/.test(b.query))
      .reply(200, (_u, body: any) => {
        this.operations.push('issueIds');
        const repository: Record<string, unknown> = {};
        for (const [alias, n] of Object.entries(body.variables as Record<string, unknown>))
          if (/^n\d+$/.test(alias))
            repository[alias] = {
              id: issueNode(Number(n)),
              fullDatabaseId: String(this.idOf(Number(n))),
              number: n,
              url: `https://github.com/Codertocat/Hello-World/issues/${n}`,
            };
        return { data: { repository } };
      });
  }

  /** Edges as `child<-blocker` strings, sorted (for assertions). */
  edgeList(): string[] {
    return this.edges.map(([c, b]) => `${c}<-${b}`).sort();
  }
}
