/**
 * The GraphQL the app sends (`POST /api/graphql`), executed for real over the double's
 * state: the document is parsed (`graphql-document.ts`), validated against the small part
 * of GitHub's schema written out below (fields, arguments, variable types, input objects),
 * and run with GitHub's semantics: query fields side by side, mutation fields one after the
 * other, node ids resolved or refused, partial data next to `errors`. The answers take
 * GitHub's shapes: a parse error, an `undefinedField`, a variable with an invalid value
 * (no data at all); `NOT_FOUND`, `UNPROCESSABLE` or `FORBIDDEN` errors with a `path`
 * (and the rest of the data) while executing.
 *
 * The schema subset: `repository(owner:, name:)` with `id`, `issue(number:)` (its
 * comments, parent and sub-issues), `label(name:)` and `object(expression:)` (a tree or a
 * blob); the mutations `createIssue` (with `labelIds` and `parentIssueId`: the issue is a
 * sub-issue at once), `addSubIssue`, `addBlockedBy` and `createLabel`.
 */
import type { BareRepo } from './bare-repo.js';
import {
  GraphqlSyntaxError,
  parseDocument,
  type Field,
  type Operation,
  type Selection,
  type TypeRef,
  type Value,
} from './graphql-document.js';
import type { Actor, GitHubState, IssueRecord } from './github-state.js';
import type { WebhookSender } from './webhook-sender.js';

export interface GraphqlContext {
  state: GitHubState;
  repo: BareRepo;
  webhooks: WebhookSender;
  actor: Actor;
  /** A workflow run's GITHUB_TOKEN may not write issues (its permissions: contents, pull requests). */
  kind: 'installation' | 'run';
}

export interface GraphqlError {
  message: string;
  type?: string;
  path?: (string | number)[];
  locations?: { line: number; column: number }[];
  extensions?: Record<string, unknown>;
}

/** What the double learnt of a request before running it (for its request log and rate limits). */
export interface GraphqlSummary {
  type: 'query' | 'mutation';
  name: string | null;
  /** The root fields, e.g. `['createIssue', 'createIssue']`. */
  fields: string[];
}

/** Parses just enough to say what a request is (null when it does not parse). */
export function summarise(body: { query?: unknown }): GraphqlSummary | null {
  try {
    const op = parseDocument(String(body.query ?? ''));
    return { type: op.type, name: op.name, fields: op.selections.flatMap((s) => (s.kind === 'field' ? [s.name] : [])) };
  } catch {
    return null;
  }
}

// --- the schema subset ------------------------------------------------------------------

type Resolved = Record<string, unknown> | null;
interface FieldDef {
  args?: Record<string, string>;
  /** GraphQL type of the result: `String!`, `Issue`, `[TreeEntry!]`... */
  type: string;
  resolve(parent: any, args: Record<string, any>, ctx: Exec, at: Field, path: (string | number)[]): unknown;
}

const SCALARS = new Set(['String', 'Int', 'ID', 'Boolean', 'BigInt', 'URI', 'DateTime', 'Float']);
const ENUMS: Record<string, string[]> = {
  IssueState: ['OPEN', 'CLOSED'],
  CommentAuthorAssociation: [
    'COLLABORATOR',
    'CONTRIBUTOR',
    'FIRST_TIMER',
    'FIRST_TIME_CONTRIBUTOR',
    'MANNEQUIN',
    'MEMBER',
    'NONE',
    'OWNER',
  ],
};
/** Abstract types: the concrete type comes from the value's `__typename`. */
const ABSTRACT: Record<string, string[]> = { GitObject: ['Tree', 'Blob', 'Commit'], Actor: ['User', 'Bot'] };

const INPUTS: Record<string, Record<string, string>> = {
  CreateIssueInput: {
    assigneeIds: '[ID!]',
    body: 'String',
    clientMutationId: 'String',
    issueTemplate: 'String',
    issueTypeId: 'ID',
    labelIds: '[ID!]',
    milestoneId: 'ID',
    parentIssueId: 'ID',
    projectIds: '[ID!]',
    repositoryId: 'ID!',
    title: 'String!',
  },
  AddBlockedByInput: { blockingIssueId: 'ID!', clientMutationId: 'String', issueId: 'ID!' },
  AddSubIssueInput: { clientMutationId: 'String', issueId: 'ID!', replaceParent: 'Boolean', subIssueId: 'ID', subIssueUrl: 'String' },
  CreateLabelInput: { clientMutationId: 'String', color: 'String!', description: 'String', name: 'String!', repositoryId: 'ID!' },
};

const leaf = (type: string, pick: (p: any, ctx: Exec) => unknown): FieldDef => ({ type, resolve: (p, _a, ctx) => pick(p, ctx) });

const TYPES: Record<string, Record<string, FieldDef>> = {
  Query: {
    repository: {
      args: { owner: 'String!', name: 'String!' },
      type: 'Repository',
      resolve: (_p, a, ctx, _f, path) => {
        const { state } = ctx.c;
        if (String(a.owner).toLowerCase() === state.owner.toLowerCase() && String(a.name).toLowerCase() === state.repo.toLowerCase())
          return {};
        return ctx.notFound(path, `Could not resolve to a Repository with the name '${a.owner}/${a.name}'.`);
      },
    },
  },
  Repository: {
    id: leaf('ID!', (_p, ctx) => ctx.c.state.repoNodeId),
    name: leaf('String!', (_p, ctx) => ctx.c.state.repo),
    nameWithOwner: leaf('String!', (_p, ctx) => `${ctx.c.state.owner}/${ctx.c.state.repo}`),
    issue: {
      args: { number: 'Int!' },
      type: 'Issue',
      resolve: (_p, a, ctx, _f, path) => {
        const issue = ctx.c.state.issues.get(Number(a.number));
        if (issue && !ctx.c.state.pulls.has(issue.number)) return issue;
        return ctx.notFound(path, `Could not resolve to an Issue with the number of ${a.number}.`);
      },
    },
    label: {
      args: { name: 'String!' },
      type: 'Label',
      resolve: (_p, a, ctx) => ctx.c.state.findLabel(String(a.name)) ?? null,
    },
    object: {
      args: { expression: 'String', oid: 'GitObjectID' },
      type: 'GitObject',
      resolve: async (_p, a, ctx) => {
        const m = /^([^:]*):(.*)$/.exec(String(a.expression ?? ''));
        if (!m) return null;
        const ref = m[1] === '' || m[1] === 'HEAD' ? ctx.c.repo.defaultBranch : m[1]!;
        if (m[2] === '') {
          const entries = await ctx.c.repo.tree(ref);
          return entries.length ? { __typename: 'Tree', entries } : null;
        }
        const text = await ctx.c.repo.readFile(m[2]!, ref);
        return text === null ? null : { __typename: 'Blob', text, byteSize: Buffer.byteLength(text) };
      },
    },
  },
  Issue: {
    id: leaf('ID!', (i: IssueRecord) => `I_${i.id}`),
    number: leaf('Int!', (i: IssueRecord) => i.number),
    databaseId: leaf('Int', (i: IssueRecord) => (i.id < 2 ** 31 ? i.id : null)),
    fullDatabaseId: leaf('BigInt', (i: IssueRecord) => String(i.id)),
    title: leaf('String!', (i: IssueRecord) => i.title),
    body: leaf('String!', (i: IssueRecord) => i.body ?? ''),
    author: leaf('Actor', (i: IssueRecord) => ({
      __typename: i.user.type,
      login: i.user.type === 'Bot' ? i.user.login.replace(/\[bot\]$/, '') : i.user.login,
    })),
    // Who last edited the body (the script agent's vouching); body edits are not modelled, so never anyone.
    editor: leaf('Actor', () => null),
    state: leaf('IssueState!', (i: IssueRecord) => i.state.toUpperCase()),
    url: leaf('URI!', (i: IssueRecord, ctx) => `${ctx.c.state.repoWeb}/issues/${i.number}`),
    parent: leaf('Issue', (i: IssueRecord, ctx) => (i.parent !== null ? ctx.c.state.issues.get(i.parent) : null)),
    comments: {
      args: { first: 'Int', after: 'String' },
      type: 'IssueCommentConnection',
      resolve: (i: IssueRecord, a, ctx) => {
        const all = [...ctx.c.state.comments.values()].filter((c) => c.issue === i.number).sort((x, y) => x.id - y.id);
        return connection(all, a);
      },
    },
    subIssues: {
      args: { first: 'Int', after: 'String' },
      type: 'IssueConnection',
      resolve: (i: IssueRecord, a, ctx) =>
        connection(
          i.subIssues.map((n) => ctx.c.state.issues.get(n)!),
          a,
        ),
    },
  },
  IssueConnection: connectionType('Issue'),
  IssueCommentConnection: connectionType('IssueComment'),
  PageInfo: {
    hasNextPage: leaf('Boolean!', (p) => p.hasNextPage),
    endCursor: leaf('String', (p) => p.endCursor),
  },
  IssueComment: {
    id: leaf('ID!', (c) => `IC_${c.id}`),
    databaseId: leaf('Int', (c) => (c.id < 2 ** 31 ? c.id : null)),
    fullDatabaseId: leaf('BigInt', (c) => String(c.id)),
    body: leaf('String!', (c) => c.body),
    authorAssociation: leaf('CommentAuthorAssociation!', (c, ctx) => ctx.c.state.association(c.user)),
    author: leaf('Actor', (c) => ({
      __typename: c.user.type,
      login: c.user.type === 'Bot' ? c.user.login.replace(/\[bot\]$/, '') : c.user.login,
    })),
  },
  User: { login: leaf('String!', (u) => u.login) },
  Bot: { login: leaf('String!', (u) => u.login) },
  Tree: { entries: leaf('[TreeEntry!]', (t) => t.entries) },
  TreeEntry: { name: leaf('String!', (e) => e.name), type: leaf('String!', (e) => e.type), mode: leaf('Int!', (e) => e.mode) },
  Blob: { text: leaf('String', (b) => b.text), byteSize: leaf('Int!', (b) => b.byteSize) },
  Commit: {},
  Label: { id: leaf('ID!', (l) => l.nodeId), name: leaf('String!', (l) => l.name), color: leaf('String!', (l) => l.color) },

  Mutation: {
    createIssue: { args: { input: 'CreateIssueInput!' }, type: 'CreateIssuePayload', resolve: createIssue },
    addSubIssue: { args: { input: 'AddSubIssueInput!' }, type: 'AddSubIssuePayload', resolve: addSubIssue },
    addBlockedBy: { args: { input: 'AddBlockedByInput!' }, type: 'AddBlockedByPayload', resolve: addBlockedBy },
    createLabel: { args: { input: 'CreateLabelInput!' }, type: 'CreateLabelPayload', resolve: createLabel },
  },
  CreateIssuePayload: { clientMutationId: leaf('String', (p) => p.clientMutationId), issue: leaf('Issue', (p) => p.issue) },
  AddSubIssuePayload: {
    clientMutationId: leaf('String', (p) => p.clientMutationId),
    issue: leaf('Issue', (p) => p.issue),
    subIssue: leaf('Issue', (p) => p.subIssue),
  },
  AddBlockedByPayload: {
    clientMutationId: leaf('String', (p) => p.clientMutationId),
    issue: leaf('Issue', (p) => p.issue),
    blockingIssue: leaf('Issue', (p) => p.blockingIssue),
  },
  CreateLabelPayload: { clientMutationId: leaf('String', (p) => p.clientMutationId), label: leaf('Label', (p) => p.label) },
};

function connectionType(node: string): Record<string, FieldDef> {
  return {
    nodes: leaf(`[${node}]`, (c) => c.nodes),
    pageInfo: leaf('PageInfo!', (c) => c.pageInfo),
    totalCount: leaf('Int!', (c) => c.totalCount),
  };
}

/** `first` / `after` over a list (the cursor is the index, base64 as GitHub's are opaque). */
function connection<T>(all: T[], a: { first?: number | null; after?: string | null }): Record<string, unknown> {
  const start = a.after
    ? Number(
        Buffer.from(a.after, 'base64')
          .toString('utf8')
          .replace(/^cursor:/, ''),
      )
    : 0;
  const first = a.first ?? 100;
  const nodes = all.slice(start, start + first);
  const end = start + nodes.length;
  return {
    nodes,
    totalCount: all.length,
    pageInfo: { hasNextPage: end < all.length, endCursor: nodes.length ? Buffer.from(`cursor:${end}`).toString('base64') : null },
  };
}

// --- mutations ----------------------------------------------------------------------------

function mutationAllowed(ctx: Exec, path: (string | number)[]): boolean {
  if (ctx.c.kind === 'installation') return true;
  ctx.errors.push({ type: 'FORBIDDEN', path, message: 'Resource not accessible by integration' });
  return false;
}

function issueByNode(ctx: Exec, id: unknown, path: (string | number)[]): IssueRecord | null {
  const m = /^I_(\d+)$/.exec(String(id));
  const issue = m ? ctx.c.state.issueById(Number(m[1])) : undefined;
  if (issue && !ctx.c.state.pulls.has(issue.number)) return issue;
  ctx.notFound(path, `Could not resolve to a node with the global id of '${String(id)}'`);
  return null;
}

function createIssue(_p: unknown, { input }: { input: Record<string, any> }, ctx: Exec, _f: Field, path: (string | number)[]): Resolved {
  if (!mutationAllowed(ctx, path)) return null;
  const { state, webhooks } = ctx.c;
  if (input.repositoryId !== state.repoNodeId)
    return ctx.notFound(path, `Could not resolve to a node with the global id of '${input.repositoryId}'`);
  for (const unsupported of ['assigneeIds', 'milestoneId', 'projectIds', 'issueTemplate', 'issueTypeId'])
    if (input[unsupported] != null) return ctx.fail(path, 'UNPROCESSABLE', `the GitHub double does not support ${unsupported}`);
  if (String(input.title).trim() === '') return ctx.fail(path, 'UNPROCESSABLE', "Title can't be blank");
  const labels: string[] = [];
  for (const id of input.labelIds ?? []) {
    const label = state.labelByNodeId(String(id));
    if (!label) return ctx.notFound(path, `Could not resolve to a node with the global id of '${id}'`);
    labels.push(label.name);
  }
  let parent: IssueRecord | null = null;
  if (input.parentIssueId != null) {
    parent = issueByNode(ctx, input.parentIssueId, path);
    if (!parent) return null;
    if (parent.subIssues.length >= 100) return ctx.fail(path, 'UNPROCESSABLE', 'Parent cannot have more than 100 sub-issues');
  }
  const issue = state.createIssue(ctx.c.actor, { title: String(input.title), body: input.body ?? null, labels });
  if (parent) {
    issue.parent = parent.number;
    parent.subIssues.push(issue.number);
  }
  webhooks.send('issues', 'opened', { issue: state.renderIssue(issue) }, ctx.c.actor);
  for (const label of issue.labels)
    webhooks.send('issues', 'labeled', { issue: state.renderIssue(issue), label: state.renderLabel(label) }, ctx.c.actor);
  return { clientMutationId: input.clientMutationId ?? null, issue };
}

function addSubIssue(_p: unknown, { input }: { input: Record<string, any> }, ctx: Exec, _f: Field, path: (string | number)[]): Resolved {
  if (!mutationAllowed(ctx, path)) return null;
  const parent = issueByNode(ctx, input.issueId, path);
  if (!parent) return null;
  let child: IssueRecord | null = null;
  if (input.subIssueId != null) child = issueByNode(ctx, input.subIssueId, path);
  else if (input.subIssueUrl != null) {
    const n = new RegExp(`^${ctx.c.state.repoWeb}/issues/(\\d+)$`).exec(String(input.subIssueUrl))?.[1];
    child = n ? (ctx.c.state.issues.get(Number(n)) ?? null) : null;
    if (!child) return ctx.notFound(path, `Could not resolve to an issue with the URL of '${input.subIssueUrl}'`);
  } else return ctx.fail(path, 'UNPROCESSABLE', 'A sub-issue id or URL is required');
  if (!child) return null;
  if (child.number === parent.number) return ctx.fail(path, 'UNPROCESSABLE', 'An issue cannot be a sub-issue of itself');
  if (child.parent === parent.number) return ctx.fail(path, 'UNPROCESSABLE', 'Issue may not contain duplicate sub-issues');
  if (child.parent !== null && input.replaceParent !== true) return ctx.fail(path, 'UNPROCESSABLE', 'Sub issue may only have one parent');
  if (parent.subIssues.length >= 100) return ctx.fail(path, 'UNPROCESSABLE', 'Parent cannot have more than 100 sub-issues');
  if (child.parent !== null) {
    const old = ctx.c.state.issues.get(child.parent)!;
    old.subIssues = old.subIssues.filter((n) => n !== child!.number);
  }
  child.parent = parent.number;
  parent.subIssues.push(child.number);
  return { clientMutationId: input.clientMutationId ?? null, issue: parent, subIssue: child };
}

function addBlockedBy(_p: unknown, { input }: { input: Record<string, any> }, ctx: Exec, _f: Field, path: (string | number)[]): Resolved {
  if (!mutationAllowed(ctx, path)) return null;
  const issue = issueByNode(ctx, input.issueId, path);
  const blocker = issue ? issueByNode(ctx, input.blockingIssueId, path) : null;
  if (!issue || !blocker) return null;
  if (issue.number === blocker.number) return ctx.fail(path, 'UNPROCESSABLE', 'An issue cannot be blocked by itself');
  if (issue.blockedBy.includes(blocker.number)) return ctx.fail(path, 'UNPROCESSABLE', 'Dependency already exists');
  if (blocksTransitively(ctx.c.state, issue.number, blocker.number))
    return ctx.fail(path, 'UNPROCESSABLE', 'Dependency would create a cycle');
  issue.blockedBy.push(blocker.number);
  return { clientMutationId: input.clientMutationId ?? null, issue, blockingIssue: blocker };
}

/** Whether `blocker` is (transitively) blocked by `issue`: the new edge would close a cycle. */
function blocksTransitively(state: GitHubState, issue: number, blocker: number): boolean {
  const seen = new Set<number>();
  const stack = [blocker];
  while (stack.length) {
    const n = stack.pop()!;
    if (n === issue) return true;
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push(...(state.issues.get(n)?.blockedBy ?? []));
  }
  return false;
}

function createLabel(_p: unknown, { input }: { input: Record<string, any> }, ctx: Exec, _f: Field, path: (string | number)[]): Resolved {
  if (!mutationAllowed(ctx, path)) return null;
  const { state } = ctx.c;
  if (input.repositoryId !== state.repoNodeId)
    return ctx.notFound(path, `Could not resolve to a node with the global id of '${input.repositoryId}'`);
  if (!/^[0-9a-fA-F]{6}$/.test(String(input.color))) return ctx.fail(path, 'UNPROCESSABLE', 'Color is invalid');
  if (String(input.name).trim() === '') return ctx.fail(path, 'UNPROCESSABLE', "Name can't be blank");
  if (state.findLabel(String(input.name))) return ctx.fail(path, 'UNPROCESSABLE', 'Name has already been taken');
  return {
    clientMutationId: input.clientMutationId ?? null,
    label: state.createLabel(String(input.name), String(input.color).toLowerCase(), input.description ?? null),
  };
}

// --- validation and execution -----------------------------------------------------------

class Exec {
  readonly errors: GraphqlError[] = [];
  constructor(
    readonly c: GraphqlContext,
    readonly vars: Record<string, unknown>,
  ) {}

  notFound(path: (string | number)[], message: string): null {
    return this.fail(path, 'NOT_FOUND', message);
  }

  fail(path: (string | number)[], type: string, message: string): null {
    this.errors.push({ type, path, message });
    return null;
  }
}

const parseType = (t: string): TypeRef => {
  const list = /^\[(\w+)(!?)\](!?)$/.exec(t);
  if (list) return { name: list[1]!, list: true, nonNull: list[3] === '!', itemNonNull: list[2] === '!' };
  return { name: t.replace(/!$/, ''), list: false, nonNull: t.endsWith('!'), itemNonNull: false };
};
const show = (t: TypeRef) => (t.list ? `[${t.name}${t.itemNonNull ? '!' : ''}]` : t.name) + (t.nonNull ? '!' : '');

/** Validates `selections` on `typeName`: fields exist, arguments are known and given, variables fit. */
function validate(op: Operation, typeName: string, selections: Selection[], path: string[], errors: GraphqlError[]): void {
  for (const s of selections) {
    if (s.kind === 'inline') {
      const on = s.on ?? typeName;
      if (!TYPES[on]) errors.push({ path, message: `No such type ${on}, so it can't be a fragment condition` });
      else if (on !== typeName && !(ABSTRACT[typeName] ?? []).includes(on))
        errors.push({ path, message: `Fragment on ${on} can't be spread inside ${typeName}` });
      else validate(op, on, s.selections, path, errors);
      continue;
    }
    const here = [...path, s.alias ?? s.name];
    const loc = [{ line: s.line, column: s.column }];
    if (s.name === '__typename') continue;
    const def = fieldsOf(typeName)[s.name];
    if (!def) {
      errors.push({
        path: here,
        extensions: { code: 'undefinedField', typeName, fieldName: s.name },
        locations: loc,
        message: `Field '${s.name}' doesn't exist on type '${typeName}'`,
      });
      continue;
    }
    for (const [arg, value] of Object.entries(s.args)) {
      const expected = def.args?.[arg];
      if (!expected) {
        errors.push({
          path: here,
          extensions: { code: 'argumentNotAccepted', name: s.name, typeName: 'Field', argumentName: arg },
          locations: loc,
          message: `Field '${s.name}' doesn't accept argument '${arg}'`,
        });
        continue;
      }
      if (value.kind === 'variable') {
        const declared = op.variables[value.name];
        if (!declared)
          errors.push({
            path: here,
            extensions: { code: 'variableNotDefined', variableName: value.name },
            locations: loc,
            message: `Variable $${value.name} is used by ${op.name ?? 'anonymous query'} but not declared`,
          });
        else {
          const want = parseType(expected);
          if (
            declared.type.name !== want.name ||
            declared.type.list !== want.list ||
            (want.nonNull && !declared.type.nonNull && declared.default === undefined)
          )
            errors.push({
              path: here,
              locations: loc,
              message: `Type mismatch on variable $${value.name} and argument ${arg} (${show(declared.type)} / ${expected})`,
            });
        }
      }
    }
    for (const [arg, type] of Object.entries(def.args ?? {}))
      if (type.endsWith('!') && !(arg in s.args))
        errors.push({
          path: here,
          extensions: { code: 'missingRequiredArguments', className: 'Field', name: s.name, arguments: arg },
          locations: loc,
          message: `Field '${s.name}' is missing required arguments: ${arg}`,
        });
    const result = parseType(def.type);
    const composite = !SCALARS.has(result.name) && !ENUMS[result.name];
    if (composite && !s.selections)
      errors.push({
        path: here,
        extensions: { code: 'selectionMismatch', nodeName: `field '${s.name}'`, typeName: result.name },
        locations: loc,
        message: `Field must have selections (field '${s.name}' returns ${result.name} but has no selections. Did you mean '${s.name} { ... }'?)`,
      });
    else if (!composite && s.selections)
      errors.push({
        path: here,
        locations: loc,
        message: `Selections can't be made on scalars (field '${s.name}' returns ${result.name} but has selections [...])`,
      });
    else if (composite) validate(op, result.name, s.selections!, here, errors);
  }
}

function fieldsOf(typeName: string): Record<string, FieldDef> {
  if (ABSTRACT[typeName]) {
    // An interface's own fields: those every member has.
    const members = ABSTRACT[typeName]!.map((t) => TYPES[t] ?? {});
    return Object.fromEntries(Object.entries(members[0] ?? {}).filter(([k]) => members.every((m) => k in m)));
  }
  return TYPES[typeName] ?? {};
}

/** A variable's value checked and coerced against its declared type; problems listed GitHub's way. */
function coerce(value: unknown, type: TypeRef | string, at: string[], problems: { path: string[]; explanation: string }[]): unknown {
  const t = typeof type === 'string' ? parseType(type) : type;
  if (value === undefined || value === null) {
    if (t.nonNull) problems.push({ path: at, explanation: 'Expected value to not be null' });
    return null;
  }
  if (t.list) {
    if (!Array.isArray(value)) return coerce([value], t, at, problems);
    return value.map((v, i) =>
      coerce(v, { name: t.name, list: false, nonNull: t.itemNonNull, itemNonNull: false }, [...at, String(i)], problems),
    );
  }
  const fields = INPUTS[t.name];
  if (fields) {
    if (typeof value !== 'object' || Array.isArray(value)) {
      problems.push({ path: at, explanation: `Expected ${JSON.stringify(value)} to be a key-value object.` });
      return null;
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value))
      if (!(key in fields)) problems.push({ path: [...at, key], explanation: `Field is not defined on ${t.name}` });
    for (const [key, ft] of Object.entries(fields)) {
      const v = coerce((value as Record<string, unknown>)[key], ft, [...at, key], problems);
      if ((value as Record<string, unknown>)[key] !== undefined) out[key] = v;
    }
    return out;
  }
  const ok =
    t.name === 'Int'
      ? Number.isInteger(value) && Math.abs(value as number) < 2 ** 31
      : t.name === 'Float'
        ? typeof value === 'number'
        : t.name === 'Boolean'
          ? typeof value === 'boolean'
          : t.name === 'ID'
            ? typeof value === 'string' || Number.isInteger(value)
            : typeof value === 'string';
  if (!ok) problems.push({ path: at, explanation: `Could not coerce value ${JSON.stringify(value)} to ${t.name}` });
  return t.name === 'ID' ? String(value) : value;
}

function literal(value: Value, vars: Record<string, unknown>): unknown {
  switch (value.kind) {
    case 'variable':
      return vars[value.name];
    case 'null':
      return null;
    case 'list':
      return value.values.map((v) => literal(v, vars));
    case 'object':
      return Object.fromEntries(Object.entries(value.fields).map(([k, v]) => [k, literal(v, vars)]));
    case 'enum':
      return value.value;
    default:
      return value.value;
  }
}

async function resolveSelections(
  exec: Exec,
  typeName: string,
  parent: any,
  selections: Selection[],
  path: (string | number)[],
  serial: boolean,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const fields: Field[] = [];
  const collect = (list: Selection[]) => {
    for (const s of list) {
      if (s.kind === 'field') fields.push(s);
      else if (!s.on || s.on === typeName) collect(s.selections);
    }
  };
  collect(selections);
  const one = async (f: Field) => {
    const key = f.alias ?? f.name;
    if (f.name === '__typename') return [key, typeName] as const;
    const def = fieldsOf(typeName)[f.name]!;
    const args: Record<string, unknown> = {};
    for (const [name, type] of Object.entries(def.args ?? {})) {
      if (!(name in f.args)) continue;
      args[name] =
        f.args[name]!.kind === 'variable' ? literal(f.args[name]!, exec.vars) : coerce(literal(f.args[name]!, exec.vars), type, [name], []);
    }
    const here = [...path, key];
    const value = await def.resolve(parent, args, exec, f, here);
    return [key, await complete(exec, parseType(def.type), value, f, here)] as const;
  };
  if (serial)
    for (const f of fields) {
      const [k, v] = await one(f);
      out[k] = v;
    }
  else for (const [k, v] of await Promise.all(fields.map(one))) out[k] = v;
  return out;
}

async function complete(exec: Exec, type: TypeRef, value: unknown, f: Field, path: (string | number)[]): Promise<unknown> {
  if (value === null || value === undefined) return null;
  if (type.list)
    return Promise.all(
      (value as unknown[]).map((v, i) => complete(exec, { ...type, list: false, nonNull: type.itemNonNull }, v, f, [...path, i])),
    );
  if (SCALARS.has(type.name) || ENUMS[type.name]) return value;
  const concrete = ABSTRACT[type.name] ? String((value as { __typename: string }).__typename) : type.name;
  return resolveSelections(exec, concrete, value, f.selections ?? [], path, false);
}

/** Answers one GraphQL request as GitHub does (HTTP 200 with `data` and/or `errors`). */
export async function answerGraphql(
  c: GraphqlContext,
  body: { query?: unknown; variables?: unknown; operationName?: unknown },
): Promise<{ status: number; json: unknown }> {
  let op: Operation;
  try {
    if (typeof body.query !== 'string')
      return { status: 200, json: { errors: [{ message: 'A query attribute must be specified and must be a string.' }] } };
    op = parseDocument(body.query);
  } catch (err) {
    if (!(err instanceof GraphqlSyntaxError)) throw err;
    return { status: 200, json: { errors: [{ message: err.message, locations: [{ line: err.line, column: err.column }] }] } };
  }
  const root = op.type === 'mutation' ? 'Mutation' : 'Query';
  const errors: GraphqlError[] = [];
  validate(op, root, op.selections, [op.name ? `${op.type} ${op.name}` : op.type], errors);
  for (const [name, v] of Object.entries(op.variables)) {
    const known = SCALARS.has(v.type.name) || ENUMS[v.type.name] || INPUTS[v.type.name];
    if (!known)
      errors.push({
        extensions: { code: 'variableRequiresValidType', typeName: v.type.name, variableName: name },
        message: `${v.type.name} isn't a defined input type (on $${name})`,
      });
  }
  if (errors.length) return { status: 200, json: { errors } };

  const given = (body.variables ?? {}) as Record<string, unknown>;
  const vars: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(op.variables)) {
    const problems: { path: string[]; explanation: string }[] = [];
    const raw = given[name] !== undefined ? given[name] : v.default ? literal(v.default, {}) : undefined;
    vars[name] = coerce(raw, v.type, [], problems);
    if (problems.length) {
      const first = problems[0]!;
      const where = first.path.length ? ` for ${first.path.join('.')}` : '';
      errors.push({
        extensions: { value: raw ?? null, problems },
        message: `Variable $${name} of type ${show(v.type)} was provided invalid value${where} (${first.explanation})`,
      });
    }
  }
  if (errors.length) return { status: 200, json: { errors } };

  const exec = new Exec(c, vars);
  const data = await resolveSelections(exec, root, {}, op.selections, [], op.type === 'mutation');
  return { status: 200, json: exec.errors.length ? { data, errors: exec.errors } : { data } };
}
