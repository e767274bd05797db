/**
 * The script agent on GitHub. It runs a bead's fenced shell blocks, and on GitHub those
 * blocks come from issue text that anyone may have written before a maintainer labelled the
 * issue. So there it runs only when `.github/gastown.yml` turns it on (`agents.script:
 * true`), and then only blocks that appear in an issue body (the bead's parent issue, or the
 * bead's own issue) whose last editor, or its author when it was never edited, has write
 * access to the repository now. A block the bead holds that no such body shows (written by
 * the model planner, or left in the ledger after a maintainer removed it from the issue) is
 * refused, and the bead fails at once saying which block and why.
 */
import type { ProbotOctokit } from 'probot';
import { hasWrite, type RepoPermission } from '../town/permissions.js';
import { getPermission } from './github-permission.js';
import { sanitizeUntrustedText } from '../mayor/sanitize.js';
import type { AgentContext, AgentResult, AgentTask, PolecatAgent } from '../polecat/agents/agent.js';
import { shellBlocks } from '../polecat/agents/shell-blocks.js';

type Octokit = InstanceType<typeof ProbotOctokit>;

/** Who vouches for one issue body, and the shell blocks it shows. */
export interface IssueVouch {
  number: number;
  /** The last editor of the body, or its author when it was never edited; null for a deleted account. */
  login: string | null;
  how: 'edited' | 'authored';
  /** A person (not a bot or app) with write, maintain or admin permission now. */
  writer: boolean;
  level: RepoPermission | 'bot' | 'unknown';
  /** The body's shell blocks as a reader sees them (hidden text stripped), normalised. */
  blocks: string[];
}

const ISSUE_QUERY = `query($owner: String!, $repo: String!, $number: Int!) {
  repository(owner: $owner, name: $repo) {
    issue(number: $number) { body author { login __typename } editor { login __typename } }
  }
}`;

interface IssueAnswer {
  repository: {
    issue: {
      body: string | null;
      author: { login: string; __typename: string } | null;
      editor: { login: string; __typename: string } | null;
    } | null;
  } | null;
}

/**
 * Reads one issue's body and its last editor (GraphQL `editor`: who made the last edit of the
 * body; null when it was never edited, then the author vouches) and checks that person's
 * permission. Null when the issue does not exist.
 */
export async function vouchForIssue(octokit: Octokit, owner: string, repo: string, number: number): Promise<IssueVouch | null> {
  const answer = await octokit.graphql<IssueAnswer>(ISSUE_QUERY, { owner, repo, number });
  const issue = answer.repository?.issue;
  if (!issue) return null;
  const actor = issue.editor ?? issue.author;
  const how = issue.editor ? 'edited' : 'authored';
  const blocks = shellBlocks(sanitizeUntrustedText(issue.body ?? '')).map(normaliseBlock);
  if (!actor) return { number, login: null, how, writer: false, level: 'unknown', blocks };
  // An app or bot vouches for nothing: its text is whatever it was given (a Slack goal, a
  // rendering of the ledger), and it has no collaborator permission to check.
  if (actor.__typename !== 'User') return { number, login: actor.login, how, writer: false, level: 'bot', blocks };
  const level = await getPermission(octokit, owner, repo, actor.login);
  return { number, login: actor.login, how, writer: hasWrite(level), level, blocks };
}

/** A block compared by its text: common indentation, trailing spaces and blank edges do not count. */
export function normaliseBlock(block: string): string {
  const lines = block.split(/\r?\n/).map((l) => l.replace(/\s+$/, ''));
  while (lines.length && lines[0] === '') lines.shift();
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  const indents = lines.filter((l) => l !== '').map((l) => /^[ \t]*/.exec(l)![0].length);
  const cut = indents.length ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(cut)).join('\n');
}

export interface VouchedScriptAgentOptions {
  /** Whether `.github/gastown.yml` turns the script agent on (read once, when first needed). */
  enabled(): Promise<boolean>;
  /** The issues whose bodies may vouch for a bead's blocks: its parent issue and its own. */
  sources(beadId: string): Promise<number[]>;
  vouch(number: number): Promise<IssueVouch | null>;
}

export function vouchedScriptAgent(inner: PolecatAgent, opts: VouchedScriptAgentOptions): PolecatAgent {
  return {
    kind: inner.kind,
    async run(task: AgentTask, ctx: AgentContext): Promise<AgentResult> {
      const steps = shellBlocks(task.body);
      // Nothing to run: the script agent itself says so.
      if (steps.length === 0) return inner.run(task, ctx);
      let refusal: string | null;
      try {
        refusal = await checkSteps(task.beadId, steps, opts);
      } catch (err) {
        // GitHub could not be asked: a later attempt may get through.
        return {
          ok: false,
          summary: `could not check who vouches for the shell blocks of ${task.beadId} on GitHub: ${(err as Error).message}`,
        };
      }
      if (refusal !== null) {
        ctx.log(`refused: ${refusal.split('\n')[0]}`);
        return { ok: false, permanent: true, summary: refusal };
      }
      return inner.run(task, ctx);
    },
  };
}

async function checkSteps(beadId: string, steps: string[], opts: VouchedScriptAgentOptions): Promise<string | null> {
  if (!(await opts.enabled()))
    return (
      'the script agent is off on GitHub: it would run shell blocks taken from issue text. Turn it on with `agents: { script: true }` ' +
      'in .github/gastown.yml (it then runs only blocks from an issue body last edited by someone with write access), or use another agent'
    );
  const numbers = [...new Set(await opts.sources(beadId))];
  if (numbers.length === 0)
    return `bead ${beadId} has no GitHub issue whose body could vouch for its shell blocks, so the script agent runs none of them`;
  const vouches = (await Promise.all(numbers.map((n) => opts.vouch(n)))).filter((v): v is IssueVouch => v !== null);
  const allowed = new Set(vouches.filter((v) => v.writer).flatMap((v) => v.blocks));
  for (const [i, step] of steps.entries()) {
    if (allowed.has(normaliseBlock(step))) continue;
    const firstLine =
      step
        .split('\n')
        .find((l) => l.trim() !== '')
        ?.trim() ?? '';
    const who = vouches.map(describeVouch).join('; ') || 'no such issue';
    return `refused to run step ${i + 1} (${firstLine.slice(0, 80)}): it is not in an issue body last edited by someone with write access (${who})`;
  }
  return null;
}

function describeVouch(v: IssueVouch): string {
  const by = v.login === null ? 'a deleted account' : `@${v.login}`;
  const what = v.how === 'edited' ? 'last edited by' : 'written by';
  if (v.writer) return `#${v.number} ${what} ${by} (${v.level} access) does not show it`;
  const access =
    v.level === 'bot'
      ? 'an app, which vouches for nothing'
      : v.level === 'unknown'
        ? 'unknown access'
        : v.level === 'none'
          ? 'no access'
          : `${v.level} access`;
  return `#${v.number} ${what} ${by} (${access})`;
}
