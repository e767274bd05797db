import { realpath } from 'node:fs/promises';
import path from 'node:path';

/** A tool call the model got wrong: reported back to it as a tool error, never thrown further. */
export class ToolError extends Error {
  override readonly name = 'ToolError';
}

/**
 * Resolves a model-supplied relative path inside the worktree, or throws ToolError.
 * Refused: absolute paths, anything whose lexical form leaves the worktree (`../`), anything
 * reached through a symlink that points outside (checked on the real path of the nearest
 * existing ancestor, so a file about to be created is covered too), and the `.git` entry,
 * which would let an agent rewrite hooks or config.
 */
export async function resolveInWorktree(worktree: string, requested: string): Promise<string> {
  if (typeof requested !== 'string' || requested === '') throw new ToolError('path is required');
  if (path.isAbsolute(requested)) throw new ToolError(`absolute paths are not allowed (${requested}); use a path relative to the worktree`);
  const root = await realpath(worktree);
  const lexical = path.resolve(root, requested);
  if (!isInside(root, lexical)) throw new ToolError(`path ${requested} is outside the worktree`);
  const rel = path.relative(root, lexical);
  if (rel.split(path.sep)[0] === '.git') throw new ToolError(`path ${requested} is inside .git, which agents may not touch`);

  // Walk up to the nearest existing ancestor and check where it really lives.
  let probe = lexical;
  for (;;) {
    try {
      const real = await realpath(probe);
      if (!isInside(root, real)) throw new ToolError(`path ${requested} leads outside the worktree through a symlink`);
      return lexical;
    } catch (err) {
      if (err instanceof ToolError) throw err;
      const parent = path.dirname(probe);
      if (parent === probe) throw new ToolError(`path ${requested} cannot be resolved`);
      probe = parent;
    }
  }
}

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
