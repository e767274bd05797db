import { z } from 'zod';
import { AGENT_NAME, BEAD_ID, CONVOY_ID, REPO } from '../town/ids.js';

/**
 * `/gt` slash-command grammar. Slash-command text is untrusted input typed by a person, so
 * it is tokenised here and every id is validated before anything reaches a service.
 */

const MAX_TEXT = 4000;
const MAX_LIMIT = 50;

const beadId = z.string().regex(BEAD_ID, 'a bead id looks like gt-a1b2');
const convoyId = z.string().regex(CONVOY_ID, 'a convoy id looks like cv-a1b2');
const repo = z.string().regex(REPO, 'a repository looks like owner/repo');
const agent = z.string().regex(AGENT_NAME, 'an agent name is letters, digits, - _ or .');
const text = z.string().trim().min(1, 'the message is empty').max(MAX_TEXT, `keep it under ${MAX_TEXT} characters`);
const limit = z.number().int().min(1, `give a number from 1 to ${MAX_LIMIT}`).max(MAX_LIMIT, `give a number from 1 to ${MAX_LIMIT}`);

export const gtCommandSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('help') }),
  z.object({ kind: z.literal('status'), repo: repo.optional() }),
  z.object({ kind: z.literal('convoy'), convoy: convoyId }),
  z.object({ kind: z.literal('ready') }),
  z.object({ kind: z.literal('feed'), limit }),
  z.object({ kind: z.literal('trail'), limit }),
  z.object({ kind: z.literal('sling'), bead: beadId, polecat: agent.optional() }),
  z.object({ kind: z.literal('sling_goal'), goal: text, repo }),
  z.object({ kind: z.literal('approve'), convoy: convoyId }),
  z.object({ kind: z.literal('stop'), convoy: convoyId }),
  z.object({ kind: z.literal('budget'), convoy: convoyId, amount: z.string().trim().min(1).max(40, 'keep the amount short, like +$5') }),
  z.object({ kind: z.literal('estop'), release: z.boolean(), repo: repo.optional() }),
  z.object({ kind: z.literal('mail_inbox') }),
  z.object({ kind: z.literal('mail_send'), to: agent, text }),
  z.object({ kind: z.literal('nudge'), polecat: agent, text }),
]);

export type ValidGtCommand = z.infer<typeof gtCommandSchema>;
export type InvalidGtCommand = { kind: 'invalid'; error: string };
export type GtCommand = ValidGtCommand | InvalidGtCommand;

export const DEFAULT_LIST_LIMIT = 10;

export function usageText(): string {
  return [
    '*Gas Town* `/gt` commands:',
    '`/gt help` this message',
    '`/gt status [owner/repo]` convoys, beads and polecats',
    '`/gt convoy <cv-id>` one convoy with its beads',
    '`/gt ready` beads ready to be slung',
    `\`/gt feed [n]\` latest activity (default ${DEFAULT_LIST_LIMIT}, at most ${MAX_LIMIT})`,
    '`/gt trail [n]` recent history',
    '`/gt sling <gt-id> [polecat]` sling a bead to a polecat',
    '`/gt sling "<goal>" --repo <owner/repo>` ask the Mayor to plan a goal',
    '`/gt approve <cv-id>` approve a convoy plan',
    '`/gt stop <cv-id>` stop a convoy',
    "`/gt budget <cv-id> <+$5|$20|+100k>` set or raise a convoy's budget (paused beads resume)",
    '`/gt estop [release] [owner/repo]` emergency stop: every polecat stops, nothing is slung',
    '`/gt mail inbox` your mail',
    '`/gt mail send <to> <text...>` send mail',
    '`/gt nudge <polecat> <text...>` nudge a working polecat',
  ].join('\n');
}

interface Token {
  value: string;
  quoted: boolean;
  /** Offset in the input of the token's first character (its opening quote, if quoted). */
  start: number;
}

const OPEN_QUOTES: Record<string, string> = { '"': '"', '“': '”', '”': '”', '„': '“' };

/** Splits on whitespace; "straight" and “smart” quotes group words (Slack clients type either). */
function tokenize(input: string): Token[] | string {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    if (/\s/.test(input[i]!)) {
      i += 1;
      continue;
    }
    const start = i;
    const close = OPEN_QUOTES[input[i]!];
    if (close !== undefined) {
      let end = input.indexOf(close, i + 1);
      // Mixed pairs happen when a client converts only one of the two quotes.
      if (end === -1 && close !== '"') end = input.indexOf('"', i + 1);
      if (end === -1 && close === '"') end = input.indexOf('”', i + 1);
      if (end === -1) return 'unbalanced quotes';
      tokens.push({ value: input.slice(i + 1, end), quoted: true, start });
      i = end + 1;
      continue;
    }
    while (i < input.length && !/\s/.test(input[i]!)) i += 1;
    tokens.push({ value: input.slice(start, i), quoted: false, start });
  }
  return tokens;
}

/** Slack escapes &, < and > in slash-command text. */
function unescapeSlack(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function invalid(error: string): InvalidGtCommand {
  return { kind: 'invalid', error };
}

function validate(candidate: unknown): GtCommand {
  const result = gtCommandSchema.safeParse(candidate);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.join('.') ?? '';
  return invalid(`${field ? `${field}: ` : ''}${issue?.message ?? 'invalid command'}`);
}

function parseLimit(tokens: Token[], name: string): GtCommand {
  if (tokens.length > 1) return invalid(`\`${name}\` takes at most one number`);
  if (tokens.length === 0) return validate({ kind: name, limit: DEFAULT_LIST_LIMIT });
  const raw = tokens[0]!.value;
  if (!/^\d+$/.test(raw)) return invalid(`\`${name}\` takes a number, not \`${raw}\``);
  return validate({ kind: name, limit: Number(raw) });
}

function exactlyOneConvoy(kind: 'convoy' | 'approve' | 'stop', args: Token[]): GtCommand {
  if (args.length !== 1) return invalid(`\`${kind}\` takes one convoy id, like \`/gt ${kind} cv-a1b2\``);
  return validate({ kind, convoy: args[0]!.value.toLowerCase() });
}

function parseSling(args: Token[]): GtCommand {
  const repoFlag = args.findIndex((t) => !t.quoted && (t.value === '--repo' || t.value.startsWith('--repo=')));
  let repoValue: string | undefined;
  const rest = [...args];
  if (repoFlag !== -1) {
    const flag = rest[repoFlag]!;
    if (flag.value.startsWith('--repo=')) {
      repoValue = flag.value.slice('--repo='.length);
      rest.splice(repoFlag, 1);
    } else {
      repoValue = rest[repoFlag + 1]?.value;
      if (repoValue === undefined) return invalid('`--repo` needs a value like owner/repo');
      rest.splice(repoFlag, 2);
    }
  }
  const unknownFlag = rest.find((t) => !t.quoted && t.value.startsWith('--'));
  if (unknownFlag) return invalid(`unknown option \`${unknownFlag.value}\``);
  const first = rest[0];
  if (first === undefined) return invalid('`sling` needs a bead id (`gt-a1b2`) or a quoted goal');

  if (first.quoted) {
    if (rest.length > 1) return invalid('put the whole goal in quotes, then `--repo owner/repo`');
    if (repoValue === undefined) return invalid('a goal needs `--repo owner/repo`');
    return validate({ kind: 'sling_goal', goal: unescapeSlack(first.value), repo: repoValue });
  }
  if (repoValue !== undefined) return invalid('`--repo` goes with a quoted goal, not a bead id');
  if (!BEAD_ID.test(first.value.toLowerCase())) {
    return invalid(`\`${first.value}\` is not a bead id (gt-a1b2); quote a goal: /gt sling "goal" --repo owner/repo`);
  }
  if (rest.length > 2) return invalid('`sling <bead> [polecat]` takes at most two arguments');
  const polecat = rest[1]?.value;
  return validate({ kind: 'sling', bead: first.value.toLowerCase(), ...(polecat !== undefined ? { polecat } : {}) });
}

/** The raw text after the token at `index`, spacing and quotes preserved. */
function remainder(input: string, tokens: Token[], index: number): string {
  const token = tokens[index];
  return token === undefined ? '' : unescapeSlack(input.slice(token.start).trim());
}

export function parseGtCommand(text: string): GtCommand {
  const input = text.trim();
  const tokens = tokenize(input);
  if (typeof tokens === 'string') return invalid(tokens);
  if (tokens.length === 0) return { kind: 'help' };
  const [head, ...args] = tokens as [Token, ...Token[]];
  const verb = head.value.toLowerCase();

  switch (verb) {
    case 'help':
      return { kind: 'help' };
    case 'status':
      if (args.length > 1) return invalid('`status` takes at most one owner/repo');
      return validate({ kind: 'status', ...(args[0] ? { repo: args[0].value } : {}) });
    case 'convoy':
    case 'approve':
    case 'stop':
      return exactlyOneConvoy(verb, args);
    case 'budget':
      if (args.length !== 2) return invalid('usage: `/gt budget <cv-id> <amount>`, like `/gt budget cv-a1b2 +$5`');
      return validate({ kind: 'budget', convoy: args[0]!.value.toLowerCase(), amount: args[1]!.value });
    case 'estop': {
      const release = args[0]?.value.toLowerCase() === 'release';
      const rest = release ? args.slice(1) : args;
      if (rest.length > 1) return invalid('usage: `/gt estop [release] [owner/repo]`');
      return validate({ kind: 'estop', release, ...(rest[0] ? { repo: rest[0].value } : {}) });
    }
    case 'ready':
      if (args.length > 0) return invalid('`ready` takes no arguments');
      return { kind: 'ready' };
    case 'feed':
    case 'trail':
      return parseLimit(args, verb);
    case 'sling':
      return parseSling(args);
    case 'mail': {
      const sub = args[0]?.value.toLowerCase();
      if (sub === 'inbox') {
        if (args.length > 1) return invalid('`mail inbox` takes no arguments');
        return { kind: 'mail_inbox' };
      }
      if (sub === 'send') {
        if (args.length < 3) return invalid('usage: `/gt mail send <to> <text...>`');
        return validate({ kind: 'mail_send', to: args[1]!.value, text: remainder(input, tokens, 3) });
      }
      return invalid('usage: `/gt mail inbox` or `/gt mail send <to> <text...>`');
    }
    case 'nudge':
      if (args.length < 2) return invalid('usage: `/gt nudge <polecat> <text...>`');
      return validate({ kind: 'nudge', polecat: args[0]!.value, text: remainder(input, tokens, 2) });
    default:
      return invalid(`unknown command \`${head.value}\``);
  }
}
