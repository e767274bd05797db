/**
 * The GraphQL documents the GitHub forge sends to mirror a convoy, and how it sends them.
 * Mutations are batched: several aliased mutation fields in one request (`i0: createIssue(...)
 * i1: createIssue(...)`), each with its own input variable, which GitHub runs one after the
 * other and answers field by field (a failed field is null with an error naming its alias;
 * the others stand). `createIssue` takes `parentIssueId`, so an issue is born a sub-issue:
 * one mutation where REST needs a create and a link.
 */
import type { ProbotOctokit } from 'probot';

type Octokit = InstanceType<typeof ProbotOctokit>;

/** Mutations per request: small enough for GitHub's timeouts, large enough to matter. */
export const MUTATION_BATCH = 10;

export interface GraphqlFieldError {
  message: string;
  type?: string;
  path?: (string | number)[];
}

export interface GraphqlAnswer<T> {
  data: T | null;
  errors: GraphqlFieldError[];
}

/**
 * Sends one document. GraphQL errors are returned beside the data (the caller decides what a
 * failed field means); HTTP errors throw as Octokit throws them. `retry: false` turns off
 * Octokit's own retry of server errors for a request that must not be sent twice blindly
 * (a 5xx may come after GitHub did the work); a secondary rate limit is still waited out,
 * since GitHub refuses those before doing anything.
 */
export async function sendGraphql<T>(
  octokit: Octokit,
  query: string,
  variables: Record<string, unknown>,
  opts: { retry?: boolean } = {},
): Promise<GraphqlAnswer<T>> {
  try {
    const data = await octokit.graphql<T>(query, { ...variables, ...(opts.retry === false ? { request: { retries: 0 } } : {}) });
    return { data, errors: [] };
  } catch (err) {
    const e = err as { name?: string; data?: T; errors?: GraphqlFieldError[] };
    if (e.name === 'GraphqlResponseError') return { data: e.data ?? null, errors: e.errors ?? [] };
    throw err;
  }
}

/** `mutation name($a0: Type!, ...) { a0: field(input: $a0) { selection } ... }` for `count` inputs. */
export function batchMutation(name: string, field: string, inputType: string, selection: string, count: number, prefix: string): string {
  const aliases = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  return [
    `mutation ${name}(${aliases.map((a) => `$${a}: ${inputType}!`).join(', ')}) {`,
    ...aliases.map((a) => `  ${a}: ${field}(input: $${a}) { ${selection} }`),
    '}',
  ].join('\n');
}

/** The node ids a batch of issue mutations needs: the repository, the parent, the labels (null: no such label). */
export function targetsQuery(labelCount: number): string {
  const labels = Array.from({ length: labelCount }, (_, i) => `l${i}`);
  return [
    `query gastownTargets($owner: String!, $repo: String!, $parent: Int!${labels.map((l) => `, $${l}: String!`).join('')}) {`,
    '  repository(owner: $owner, name: $repo) {',
    '    id',
    '    parent: issue(number: $parent) { id }',
    ...labels.map((l) => `    ${l}: label(name: $${l}) { id name }`),
    '  }',
    '}',
  ].join('\n');
}

/** Node ids (and REST ids) of issues by number. */
export function issuesQuery(count: number): string {
  const aliases = Array.from({ length: count }, (_, i) => `n${i}`);
  return [
    `query gastownIssueIds($owner: String!, $repo: String!${aliases.map((a) => `, $${a}: Int!`).join('')}) {`,
    '  repository(owner: $owner, name: $repo) {',
    ...aliases.map((a) => `    ${a}: issue(number: $${a}) { id fullDatabaseId number url }`),
    '  }',
    '}',
  ].join('\n');
}

export const ISSUE_FIELDS = 'id fullDatabaseId number url';

export interface IssueNode {
  id: string;
  fullDatabaseId: string | null;
  number: number;
  url: string;
}

export function chunks<T>(items: T[], size: number = MUTATION_BATCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
