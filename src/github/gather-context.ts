/**
 * Context for the Mayor from GitHub, in at most 2 + 3 requests: the issue's comments, the
 * top-level tree, and README / AGENTS.md / CONTRIBUTING when the tree shows them. Issue text
 * is data: hidden content is stripped here, before it can reach a model.
 */
import type { ProbotOctokit } from 'probot';
import { findMarker } from '../forge/forge-port.js';
import { stripHidden } from '../forge/markdown-text.js';
import type { MayorInput } from './plan-issue-deps.js';

type Octokit = InstanceType<typeof ProbotOctokit>;

const DOC_NAMES = ['readme.md', 'readme', 'agents.md', 'contributing.md'];
const EXCERPT_CHARS = 4000;
const COMMENT_CHARS = 2000;

export interface IssueForContext {
  number: number;
  title: string;
  body: string | null;
  url: string;
}

export type GatheredContext = Pick<MayorInput, 'goal' | 'comments' | 'tree' | 'docs'>;

export async function gatherContext(octokit: Octokit, owner: string, repo: string, issue: IssueForContext): Promise<GatheredContext> {
  const { data: rawComments } = await octokit.rest.issues.listComments({ owner, repo, issue_number: issue.number, per_page: 100 });
  const comments = rawComments
    .filter((c) => c.user?.type !== 'Bot' && findMarker(c.body) === null)
    .map((c) => ({ author: c.user?.login ?? 'ghost', body: clip(stripHidden(c.body ?? ''), COMMENT_CHARS) }))
    .filter((c) => c.body !== '');

  const tree = await topLevelTree(octokit, owner, repo);
  const docs: MayorInput['docs'] = [];
  for (const entry of tree) {
    if (!DOC_NAMES.includes(entry.toLowerCase())) continue;
    const text = await readText(octokit, owner, repo, entry);
    if (text !== null) docs.push({ path: entry, excerpt: clip(stripHidden(text), EXCERPT_CHARS) });
  }

  return {
    goal: { title: stripHidden(issue.title).trim(), body: stripHidden(issue.body ?? '').trim(), url: issue.url },
    comments,
    tree,
    docs,
  };
}

async function topLevelTree(octokit: Octokit, owner: string, repo: string): Promise<string[]> {
  try {
    const { data } = await octokit.rest.repos.getContent({ owner, repo, path: '' });
    if (!Array.isArray(data)) return [];
    return data.map((e) => (e.type === 'dir' ? `${e.name}/` : e.name)).sort();
  } catch (err) {
    // An empty repository has no tree: plan without one.
    if ((err as { status?: number }).status === 404) return [];
    throw err;
  }
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
