/**
 * The GraphQL the app sends (`POST /api/graphql`): the Mayor's context query
 * (`src/github/gather-context.ts`) and the script agent's question of who vouches for an
 * issue (`src/forge/vouched-script-agent.ts`). Answered by reading the query for what it
 * asks: `issue(number:)` with its body, author, editor and `comments(first: N)`, and each
 * `alias: object(expression: "HEAD:<path>")` (a tree for `HEAD:`, a blob's text otherwise).
 * Anything else gets GraphQL's error shape.
 */
import type { BareRepo } from './bare-repo.js';
import type { GitHubState } from './github-state.js';

export async function answerGraphql(state: GitHubState, repo: BareRepo, body: { query?: string; variables?: Record<string, unknown> }): Promise<{ status: number; json: unknown }> {
  const query = body.query ?? '';
  const vars = body.variables ?? {};
  if (!/repository\(owner: \$owner, name: \$repo\)/.test(query))
    return { status: 200, json: { errors: [{ type: 'UNSUPPORTED', message: 'the GitHub double answers only the repository context query' }] } };
  if (vars.owner !== state.owner || vars.repo !== state.repo)
    return { status: 200, json: { data: { repository: null }, errors: [{ type: 'NOT_FOUND', path: ['repository'], message: `Could not resolve to a Repository with the name '${String(vars.owner)}/${String(vars.repo)}'.` }] } };

  const repository: Record<string, unknown> = {};
  if (/issue\(number: \$number\)/.test(query)) {
    const issue = state.issueByNumber(Number(vars.number));
    const first = Number(/comments\(first: (\d+)\)/.exec(query)?.[1] ?? 100);
    const all = [...state.comments.values()].filter((c) => c.issue === issue?.number).sort((a, b) => a.id - b.id);
    // A body edit is not modelled: `editor` (the last editor) is always null, so the author vouches.
    const actor = (a: { login: string; type: string }) => ({ login: a.type === 'Bot' ? a.login.replace(/\[bot\]$/, '') : a.login, __typename: a.type });
    repository.issue = issue
      ? {
          body: issue.body,
          author: actor(issue.user),
          editor: null,
          comments: {
            pageInfo: { hasNextPage: all.length > first },
            nodes: all.slice(0, first).map((c) => ({
              databaseId: c.id < 2 ** 31 ? c.id : null,
              fullDatabaseId: String(c.id),
              body: c.body,
              author: { login: c.user.type === 'Bot' ? c.user.login.replace(/\[bot\]$/, '') : c.user.login, __typename: c.user.type },
            })),
          },
        }
      : null;
  }
  for (const m of query.matchAll(/(\w+): object\(expression: "HEAD:([^"]*)"\)/g)) {
    const [, alias, path] = m as unknown as [string, string, string];
    if (path === '') {
      const entries = await repo.tree();
      repository[alias] = entries.length ? { entries } : null;
    } else {
      const text = await repo.readFile(path);
      repository[alias] = text === null ? null : { text };
    }
  }
  return { status: 200, json: { data: { repository } } };
}
