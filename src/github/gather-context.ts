/**
 * Context for the Mayor from GitHub, in one GraphQL request: the issue's comments, the
 * top-level tree of the default branch, and README.md / AGENTS.md / CONTRIBUTING.md. A doc the
 * tree shows under another spelling (`readme.md`, `README`) or as a symlink costs one raw read
 * more. Issue text is data: hidden content is stripped here, before it can reach a model.
 *
 * Whose words the Mayor reads: the issue (title and body as the triggering webhook carried
 * them: the person with write access who labelled it or wrote `/gt plan` vouched for that
 * text), and comments by people with write access. Anyone can comment on a public issue, so
 * other comments are named but not quoted; a bot's comments are left out altogether.
 */
import type { ProbotOctokit } from 'probot';
import { GastownError } from '../errors.js';
import { stripHidden } from '../forge/markdown-text.js';
import { hasWrite } from '../town/permissions.js';
import type { PermissionLookup } from './permission.js';
import type { MayorInput } from './mayor.js';
import { findMarker } from '../town/ids.js';

type Octokit = InstanceType<typeof ProbotOctokit>;

const DOC_NAMES = ['readme.md', 'readme', 'agents.md', 'contributing.md'];
const EXCERPT_CHARS = 4000;
const COMMENT_CHARS = 2000;
/** Git's mode of a symbolic link: its blob holds the target's path, not the document. */
const SYMLINK_MODE = 0o120000;

/** The doc spellings read inside the query, by alias. */
const QUERIED_DOCS = { readme: 'README.md', agents: 'AGENTS.md', contributing: 'CONTRIBUTING.md' } as const;
type DocAlias = keyof typeof QUERIED_DOCS;

/**
 * `HEAD:` is the default branch, as the REST contents API reads it. An empty repository has
 * no HEAD: every `object` is null. `fullDatabaseId` is the comment's REST id as a string
 * (`databaseId` is a GraphQL Int, too small for today's comment ids).
 */
export const CONTEXT_QUERY = `query gastownContext($owner: String!, $repo: String!, $number: Int!) {
  repository(owner: $owner, name: $repo) {
    issue(number: $number) {
      comments(first: 100) {
        pageInfo { hasNextPage }
        nodes { databaseId fullDatabaseId body authorAssociation author { login __typename } }
      }
    }
    tree: object(expression: "HEAD:") { ... on Tree { entries { name type mode } } }
${Object.entries(QUERIED_DOCS)
  .map(([alias, path]) => `    ${alias}: object(expression: "HEAD:${path}") { ... on Blob { text } }`)
  .join('\n')}
  }
}`;

interface CommentNode {
  databaseId?: number | null;
  fullDatabaseId?: string | null;
  body?: string | null;
  authorAssociation?: string | null;
  author?: { login?: string | null; __typename?: string } | null;
}

/**
 * `authorAssociation` as a cheap first filter. Write access to a repository comes from owning
 * it, from membership of its organisation (directly or through a team) or from being invited
 * as a collaborator, so a writer's comment says OWNER, MEMBER or COLLABORATOR. The converse
 * does not hold (a read-only collaborator, an org member without access to this repository),
 * so those three still cost one permission request per person. The association can
 * understate (an org member whose membership is private may show as CONTRIBUTOR to a token
 * that cannot see it): then a writer's comment is not quoted, which loses context but never
 * lets a stranger's words through. A node without the field is checked.
 */
const MAY_HAVE_WRITE = new Set(['OWNER', 'MEMBER', 'COLLABORATOR']);

/** What the Mayor reads in place of a comment by someone without write access. */
export function notShownNote(login: string): string {
  return `(comment by @${login}, who has no write access: not shown)`;
}

type ContextResponse = {
  repository:
    | ({
        issue: { comments: { pageInfo?: { hasNextPage?: boolean } | null; nodes?: (CommentNode | null)[] | null } } | null;
        tree: { entries?: { name: string; type: string; mode?: number }[] | null } | null;
      } & Record<DocAlias, { text?: string | null } | null>)
    | null;
};

export interface IssueForContext {
  number: number;
  title: string;
  body: string | null;
  url: string;
}

export type GatheredContext = Pick<MayorInput, 'goal' | 'comments' | 'tree' | 'docs'>;

export async function gatherContext(
  octokit: Octokit,
  owner: string,
  repo: string,
  issue: IssueForContext,
  /**
   * Sees the raw comment listing with REST ids (the forge reuses it to find its status
   * comment); called only when the listing is complete, since a partial one proves no absence.
   */
  onComments: ((comments: { id: number; body?: string | null }[]) => void) | undefined,
  /** The delivery's permission lookup (`permissionLookup`): decides whose comments are quoted. */
  permissionOf: PermissionLookup,
  log?: { warn: (obj: object, msg: string) => void },
): Promise<GatheredContext> {
  const data = await queryContext(octokit, owner, repo, issue.number);
  const repository = data.repository;
  const listing = repository?.issue?.comments;
  const nodes = (listing?.nodes ?? []).filter((n): n is CommentNode => n !== null);
  if (onComments && listing?.pageInfo?.hasNextPage === false) {
    const raw: { id: number; body?: string | null }[] = [];
    for (const n of nodes) {
      const id = restId(n);
      if (id !== null) raw.push({ id, body: n.body ?? null });
    }
    onComments(raw);
  }
  const people = nodes.filter((c) => c.author?.__typename !== 'Bot' && findMarker(c.body) === null);
  const writers = await whoMayBeQuoted(people, permissionOf, log);
  const comments = people
    .map((c) => {
      const login = c.author?.login ?? 'ghost';
      if (!writers.has(login.toLowerCase())) return { author: login, body: notShownNote(login) };
      return { author: login, body: clip(stripHidden(c.body ?? ''), COMMENT_CHARS) };
    })
    .filter((c) => c.body !== '');

  const entries = repository?.tree?.entries ?? [];
  const tree = entries.map((e) => (e.type === 'tree' ? `${e.name}/` : e.name)).sort();
  const queried = new Map<string, string | null>();
  for (const [alias, path] of Object.entries(QUERIED_DOCS) as [DocAlias, string][]) {
    queried.set(path, repository?.[alias]?.text ?? null);
  }
  const docs: MayorInput['docs'] = [];
  for (const entry of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (entry.type !== 'blob' || !DOC_NAMES.includes(entry.name.toLowerCase())) continue;
    const text =
      queried.has(entry.name) && entry.mode !== SYMLINK_MODE ? queried.get(entry.name)! : await readText(octokit, owner, repo, entry.name);
    if (text !== null) docs.push({ path: entry.name, excerpt: clip(stripHidden(text), EXCERPT_CHARS) });
  }

  return {
    goal: { title: stripHidden(issue.title).trim(), body: stripHidden(issue.body ?? '').trim(), url: issue.url },
    comments,
    tree,
    docs,
  };
}

/**
 * The logins (lower-cased) whose comments may be quoted: write, maintain or admin on the
 * repository. One lookup per distinct login that passes the association filter; a lookup that
 * fails counts as no write access (the comment is not quoted; the plan goes on).
 */
async function whoMayBeQuoted(
  comments: CommentNode[],
  permissionOf: PermissionLookup,
  log?: { warn: (obj: object, msg: string) => void },
): Promise<Set<string>> {
  const candidates = new Map<string, string>();
  for (const c of comments) {
    const login = c.author?.login;
    if (!login) continue;
    const association = c.authorAssociation;
    if (association != null && !MAY_HAVE_WRITE.has(association)) continue;
    candidates.set(login.toLowerCase(), login);
  }
  const writers = new Set<string>();
  await Promise.all(
    [...candidates].map(async ([key, login]) => {
      try {
        if (hasWrite(await permissionOf(login))) writers.add(key);
      } catch (err) {
        log?.warn({ login, status: (err as { status?: unknown }).status }, "Could not read a commenter's permission: comment not quoted");
      }
    }),
  );
  return writers;
}

async function queryContext(octokit: Octokit, owner: string, repo: string, number: number): Promise<ContextResponse> {
  try {
    return await octokit.graphql<ContextResponse>(CONTEXT_QUERY, { owner, repo, number });
  } catch (err) {
    const status = (err as { status?: unknown }).status;
    const types = ((err as { errors?: { type?: string }[] }).errors ?? []).map((e) => e.type ?? 'ERROR');
    const detail =
      typeof status === 'number' ? `HTTP ${status}` : types.length > 0 ? `GraphQL ${[...new Set(types)].join(', ')}` : 'no answer';
    throw new GastownError(
      'gastown_forge',
      `GitHub refused to read the issue's context (${detail})`,
      { status: typeof status === 'number' ? status : undefined, operation: 'read context' },
      { cause: err },
    );
  }
}

/** The comment's REST id, as `issues.getComment` / `updateComment` take it. */
function restId(node: CommentNode): number | null {
  const full = node.fullDatabaseId != null ? Number(node.fullDatabaseId) : NaN;
  if (Number.isSafeInteger(full) && full > 0) return full;
  return typeof node.databaseId === 'number' ? node.databaseId : null;
}

async function readText(octokit: Octokit, owner: string, repo: string, path: string): Promise<string | null> {
  try {
    const { data } = await octokit.rest.repos.getContent({ owner, repo, path, mediaType: { format: 'raw' } });
    // Octokit hands raw bodies back as text or as bytes, depending on the content type.
    if (typeof data === 'string') return data;
    if ((data as unknown) instanceof ArrayBuffer) return new TextDecoder().decode(data as unknown as ArrayBuffer);
    return null;
  } catch (err) {
    if ((err as { status?: number }).status === 404) return null;
    throw err;
  }
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}\n[...]` : text;
}
