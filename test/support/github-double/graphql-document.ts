/**
 * A GraphQL document parser for the double: the subset of the GraphQL grammar the app's
 * documents use (one operation, `query` or `mutation`, variable definitions, aliases,
 * arguments of any literal kind or `$variable`, nested selection sets and inline fragments
 * `... on Type`). Anything outside it (fragment definitions, spreads, directives, several
 * operations) is refused with a `GraphqlSyntaxError`, which the double answers as GitHub
 * answers a parse error.
 */

export type Value =
  | { kind: 'variable'; name: string }
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  | { kind: 'enum'; value: string }
  | { kind: 'list'; values: Value[] }
  | { kind: 'object'; fields: Record<string, Value> };

export interface TypeRef {
  /** The named type (`CreateIssueInput`), list or not. */
  name: string;
  list: boolean;
  nonNull: boolean;
  /** For a list: whether its items are non-null. */
  itemNonNull: boolean;
}

export interface Field {
  kind: 'field';
  alias: string | null;
  name: string;
  args: Record<string, Value>;
  selections: Selection[] | null;
  line: number;
  column: number;
}

export interface InlineFragment {
  kind: 'inline';
  on: string | null;
  selections: Selection[];
}

export type Selection = Field | InlineFragment;

export interface Operation {
  type: 'query' | 'mutation';
  name: string | null;
  variables: Record<string, { type: TypeRef; default?: Value }>;
  selections: Selection[];
}

export class GraphqlSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}

interface Token {
  kind: 'punct' | 'name' | 'int' | 'float' | 'string' | 'eof';
  text: string;
  value?: string;
  line: number;
  column: number;
}

const PUNCT = /^(\.\.\.|[!$():=@[\]{}|&])/;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const at = () => ({ line, column: i - lineStart + 1 });
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === ',' || c === '\ufeff') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < source.length && source[i] !== '\n') i++;
      continue;
    }
    const rest = source.slice(i);
    const punct = PUNCT.exec(rest);
    if (punct) {
      tokens.push({ kind: 'punct', text: punct[1]!, ...at() });
      i += punct[1]!.length;
      continue;
    }
    const name = /^[_A-Za-z][_0-9A-Za-z]*/.exec(rest);
    if (name) {
      tokens.push({ kind: 'name', text: name[0], ...at() });
      i += name[0].length;
      continue;
    }
    const number = /^-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(rest);
    if (number) {
      tokens.push({ kind: number[1] || number[2] ? 'float' : 'int', text: number[0], ...at() });
      i += number[0].length;
      continue;
    }
    if (c === '"') {
      if (rest.startsWith('"""'))
        throw new GraphqlSyntaxError('Block strings are not supported by the GitHub double', line, i - lineStart + 1);
      const start = at();
      let value = '';
      i++;
      for (;;) {
        const ch = source[i];
        if (ch === undefined || ch === '\n') throw new GraphqlSyntaxError('Unterminated string', start.line, start.column);
        if (ch === '"') break;
        if (ch === '\\') {
          const esc = source[i + 1];
          const map: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
          if (esc === 'u') {
            value += String.fromCharCode(parseInt(source.slice(i + 2, i + 6), 16));
            i += 6;
            continue;
          }
          if (esc === undefined || !(esc in map))
            throw new GraphqlSyntaxError(`Invalid escape sequence \\${esc ?? ''}`, line, i - lineStart + 1);
          value += map[esc];
          i += 2;
          continue;
        }
        value += ch;
        i++;
      }
      i++;
      tokens.push({ kind: 'string', text: JSON.stringify(value), value, ...start });
      continue;
    }
    throw new GraphqlSyntaxError(`Parse error on "${c}"`, line, i - lineStart + 1);
  }
  tokens.push({ kind: 'eof', text: 'end of file', line, column: i - lineStart + 1 });
  return tokens;
}

/** Parses the document; throws GraphqlSyntaxError with GitHub's kind of message. */
export function parseDocument(source: string): Operation {
  const tokens = tokenize(source);
  let p = 0;
  const peek = () => tokens[p]!;
  const fail = (t: Token = peek()): never => {
    throw new GraphqlSyntaxError(
      `Parse error on "${t.kind === 'eof' ? 'end of file' : t.text}" (${t.kind === 'punct' ? `'${t.text}'` : t.kind.toUpperCase()}) at [${t.line}, ${t.column}]`,
      t.line,
      t.column,
    );
  };
  const punct = (text: string) => {
    const t = peek();
    if (t.kind !== 'punct' || t.text !== text) fail(t);
    p++;
  };
  const isPunct = (text: string) => peek().kind === 'punct' && peek().text === text;
  const name = () => {
    const t = peek();
    if (t.kind !== 'name') fail(t);
    p++;
    return t.text;
  };

  const value = (constOnly: boolean): Value => {
    const t = peek();
    if (t.kind === 'punct' && t.text === '$') {
      if (constOnly) fail(t);
      p++;
      return { kind: 'variable', name: name() };
    }
    if (t.kind === 'int') return (p++, { kind: 'int', value: Number(t.text) });
    if (t.kind === 'float') return (p++, { kind: 'float', value: Number(t.text) });
    if (t.kind === 'string') return (p++, { kind: 'string', value: t.value! });
    if (t.kind === 'name') {
      p++;
      if (t.text === 'true' || t.text === 'false') return { kind: 'boolean', value: t.text === 'true' };
      if (t.text === 'null') return { kind: 'null' };
      return { kind: 'enum', value: t.text };
    }
    if (isPunct('[')) {
      p++;
      const values: Value[] = [];
      while (!isPunct(']')) values.push(value(constOnly));
      p++;
      return { kind: 'list', values };
    }
    if (isPunct('{')) {
      p++;
      const fields: Record<string, Value> = {};
      while (!isPunct('}')) {
        const key = name();
        punct(':');
        fields[key] = value(constOnly);
      }
      p++;
      return { kind: 'object', fields };
    }
    return fail(t);
  };

  const typeRef = (): TypeRef => {
    if (isPunct('[')) {
      p++;
      const item = name();
      let itemNonNull = false;
      if (isPunct('!')) p++, (itemNonNull = true);
      punct(']');
      let nonNull = false;
      if (isPunct('!')) p++, (nonNull = true);
      return { name: item, list: true, nonNull, itemNonNull };
    }
    const n = name();
    let nonNull = false;
    if (isPunct('!')) p++, (nonNull = true);
    return { name: n, list: false, nonNull, itemNonNull: false };
  };

  const selectionSet = (): Selection[] => {
    punct('{');
    const selections: Selection[] = [];
    while (!isPunct('}')) {
      if (isPunct('...')) {
        const dots = peek();
        p++;
        if (peek().kind === 'name' && peek().text === 'on') {
          p++;
          const on = name();
          selections.push({ kind: 'inline', on, selections: selectionSet() });
        } else if (isPunct('{')) {
          selections.push({ kind: 'inline', on: null, selections: selectionSet() });
        } else {
          throw new GraphqlSyntaxError('Fragment spreads are not supported by the GitHub double', dots.line, dots.column);
        }
        continue;
      }
      const start = peek();
      let fieldName = name();
      let alias: string | null = null;
      if (isPunct(':')) {
        p++;
        alias = fieldName;
        fieldName = name();
      }
      const args: Record<string, Value> = {};
      if (isPunct('(')) {
        p++;
        while (!isPunct(')')) {
          const key = name();
          punct(':');
          args[key] = value(false);
        }
        p++;
      }
      if (isPunct('@')) throw new GraphqlSyntaxError('Directives are not supported by the GitHub double', peek().line, peek().column);
      const inner = isPunct('{') ? selectionSet() : null;
      selections.push({ kind: 'field', alias, name: fieldName, args, selections: inner, line: start.line, column: start.column });
    }
    p++;
    return selections;
  };

  let operation: Operation;
  if (isPunct('{')) {
    operation = { type: 'query', name: null, variables: {}, selections: selectionSet() };
  } else {
    const t = peek();
    const type = name();
    if (type !== 'query' && type !== 'mutation') {
      if (type === 'fragment' || type === 'subscription')
        throw new GraphqlSyntaxError(
          `${type === 'fragment' ? 'Fragment definitions' : 'Subscriptions'} are not supported by the GitHub double`,
          t.line,
          t.column,
        );
      fail(t);
    }
    const opName = peek().kind === 'name' ? name() : null;
    const variables: Operation['variables'] = {};
    if (isPunct('(')) {
      p++;
      while (!isPunct(')')) {
        punct('$');
        const v = name();
        punct(':');
        const type = typeRef();
        let def: Value | undefined;
        if (isPunct('=')) p++, (def = value(true));
        variables[v] = def === undefined ? { type } : { type, default: def };
      }
      p++;
    }
    operation = { type: type as Operation['type'], name: opName, variables, selections: selectionSet() };
  }
  if (peek().kind !== 'eof') {
    const t = peek();
    throw new GraphqlSyntaxError('The GitHub double answers documents of one operation only', t.line, t.column);
  }
  return operation;
}
