import { execFileSync } from 'node:child_process';
import { TEST_GIT_ENV } from './temp-repo.js';

function gitIn(cwd: string, args: string[], input?: string): string {
  return execFileSync('git', args, { cwd, env: TEST_GIT_ENV, encoding: 'utf8', ...(input !== undefined ? { input } : {}) }).trim();
}

export interface RawEntity {
  /** Files of the commit's tree (name → content); none: an empty tree. */
  files?: Record<string, string>;
  /** The whole commit message (our commits put the JSON after the summary line). */
  message: string;
  parent?: string;
}

/**
 * Points `ref` at a commit made with git plumbing (hash-object, mktree, commit-tree,
 * update-ref), the way a person or another tool could: nothing of the ledger's own code
 * checks what it holds. Returns the commit id.
 */
export function writeRawEntity(repo: string, ref: string, entity: RawEntity): string {
  const lines = Object.entries(entity.files ?? {}).map(([name, content]) => {
    const blob = gitIn(repo, ['hash-object', '-w', '--stdin'], content);
    return `100644 blob ${blob}\t${name}\n`;
  });
  const tree = gitIn(repo, ['mktree'], lines.join(''));
  const commit = gitIn(repo, ['commit-tree', tree, ...(entity.parent ? ['-p', entity.parent] : []), '-F', '-'], entity.message);
  gitIn(repo, ['update-ref', ref, commit]);
  return commit;
}

/** The three ways a bead goes bad in these tests, each made with plumbing. */
export const BAD_BEADS = {
  /** Not JSON in the tree, no JSON in the message. */
  badJson: (): RawEntity => ({ files: { 'bead.json': '{"id": "gt-bad1", "title": ' }, message: 'hand-made bead\n' }),
  /** A commit whose tree holds no bead.json at all. */
  noFile: (): RawEntity => ({ files: { 'notes.txt': 'nothing here\n' }, message: 'not a bead\n' }),
  /** Valid JSON of the wrong shape, in the tree and the message alike. */
  wrongShape: (): RawEntity => {
    const json = JSON.stringify({ id: 5, labels: 'x' });
    return { files: { 'bead.json': json }, message: `update beads/gt-bad3\n\n${json}\n` };
  },
};
