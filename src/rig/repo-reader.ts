import { GastownError } from '../errors.js';
import { runGit } from '../ledger/run-git.js';

/** What the Mayor may read of a repository: committed files at one revision, never the disk around it. */
export interface RepoReader {
  /** Entries of a folder (`''` for the top), folders ending in `/`. */
  list(path: string): Promise<string[]>;
  /** A file's text, cut at `maxChars`. */
  read(path: string, maxChars: number): Promise<{ text: string; truncated: boolean }>;
}

/**
 * Reads through git objects at `rev` (HEAD: the branch of the workspace, or the default
 * branch of a bare rig), so paths outside the repository, untracked files and symlinks
 * leading out cannot be reached however the model spells a path.
 */
export function gitRepoReader(repoDir: string, rev = 'HEAD'): RepoReader {
  const clean = (path: string) => {
    const p = path
      .trim()
      .replace(/^\.?\/+/, '')
      .replace(/\/+$/, '');
    if (p.split('/').some((s) => s === '..') || /[\0\n]/.test(p) || p.startsWith(':'))
      throw new GastownError('gastown_bad_input', `not a repository path: ${JSON.stringify(path)}`);
    return p;
  };
  return {
    async list(path) {
      const p = clean(path);
      const r = await runGit(['ls-tree', '-z', `${rev}:${p}`], { cwd: repoDir, okCodes: [128] });
      if (r.code !== 0) throw new GastownError('gastown_not_found', `no folder ${p || '/'} in ${rev}`);
      return r.stdout
        .toString('utf8')
        .split('\0')
        .filter(Boolean)
        .map((line) => {
          const [meta, name] = line.split('\t') as [string, string];
          return meta.split(' ')[1] === 'tree' ? `${name}/` : name;
        });
    },
    async read(path, maxChars) {
      const p = clean(path);
      const r = await runGit(['cat-file', 'blob', `${rev}:${p}`], { cwd: repoDir, okCodes: [128] });
      if (r.code !== 0) throw new GastownError('gastown_not_found', `no file ${p} in ${rev}`);
      const text = r.stdout.toString('utf8');
      return text.length > maxChars ? { text: text.slice(0, maxChars), truncated: true } : { text, truncated: false };
    },
  };
}
