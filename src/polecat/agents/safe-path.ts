import { lstat, mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';

/** A tool call the model got wrong: reported back to it as a tool error, never thrown further. */
export class ToolError extends Error {
  override readonly name = 'ToolError';
}

/**
 * The built-in agent's file tools run in the runner's process, outside the sandbox, so they
 * confine themselves: every path the model gives is resolved here, and the agent's own
 * commands (which run in the sandbox and may plant symlinks) cannot steer a write or read
 * outside the workspace.
 */

/** The lexical part: relative, inside the workspace, not `.git`. Returns [real root, lexical path]. */
async function lexical(workspace: string, requested: string): Promise<[string, string]> {
  if (typeof requested !== 'string' || requested === '') throw new ToolError('path is required');
  if (path.isAbsolute(requested))
    throw new ToolError(`absolute paths are not allowed (${requested}); use a path relative to the workspace`);
  const root = await realpath(workspace);
  const resolved = path.resolve(root, requested);
  if (!isInside(root, resolved)) throw new ToolError(`path ${requested} is outside the workspace`);
  checkNotGit(root, resolved, requested);
  return [root, resolved];
}

/**
 * Resolves a model-supplied relative path for reading, or throws ToolError. Refused:
 * absolute paths, anything whose lexical form leaves the workspace (`../`), anything reached
 * through a symlink that points outside (checked on the real path of the nearest existing
 * ancestor, so a file about to be created is covered too), and `.git` (also through a link).
 */
export async function resolveInWorkspace(workspace: string, requested: string): Promise<string> {
  const [root, resolved] = await lexical(workspace, requested);
  let probe = resolved;
  for (;;) {
    try {
      const real = await realpath(probe);
      if (!isInside(root, real)) throw new ToolError(`path ${requested} leads outside the workspace through a symlink`);
      checkNotGit(root, real, requested);
      return probe === resolved ? real : resolved;
    } catch (err) {
      if (err instanceof ToolError) throw err;
      const parent = path.dirname(probe);
      if (parent === probe) throw new ToolError(`path ${requested} cannot be resolved`);
      probe = parent;
    }
  }
}

/**
 * Resolves a path for writing and creates its missing parent directories, or throws
 * ToolError. Walks from the workspace root one component at a time with lstat: a directory
 * goes on, a missing one is made, a symlink is followed only when its real target exists
 * inside the workspace (a dangling link could be created through later, outside). The file
 * itself, when it is a symlink, must resolve inside too; anything but a regular file or a
 * missing one is refused. Write the result with O_NOFOLLOW.
 */
export async function resolveForWrite(workspace: string, requested: string): Promise<string> {
  const [root, resolved] = await lexical(workspace, requested);
  let dir = root;
  for (const part of path.relative(root, path.dirname(resolved)).split(path.sep).filter(Boolean)) {
    const next = path.join(dir, part);
    const st = await lstatOrNull(next);
    if (!st) {
      await mkdir(next).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      const made = await lstat(next);
      if (!made.isDirectory()) throw new ToolError(`path ${requested} changed while it was being created`);
      dir = next;
    } else if (st.isSymbolicLink()) {
      dir = await followInside(root, next, requested);
      if (!(await lstat(dir)).isDirectory()) throw new ToolError(`path ${requested}: ${part} is not a directory`);
    } else if (st.isDirectory()) dir = next;
    else throw new ToolError(`path ${requested}: ${part} is not a directory`);
  }
  let file = path.join(dir, path.basename(resolved));
  const st = await lstatOrNull(file);
  if (st?.isSymbolicLink()) file = await followInside(root, file, requested);
  const target = await lstatOrNull(file);
  if (target && !target.isFile()) throw new ToolError(`path ${requested} is not a regular file`);
  checkNotGit(root, file, requested);
  return file;
}

/** The real path of a symlink whose target exists inside the workspace; anything else is refused. */
async function followInside(root: string, link: string, requested: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(link);
  } catch {
    throw new ToolError(`path ${requested} goes through a dangling symlink (${path.relative(root, link)}); it is not followed`);
  }
  if (!isInside(root, real)) throw new ToolError(`path ${requested} leads outside the workspace through a symlink`);
  checkNotGit(root, real, requested);
  return real;
}

function checkNotGit(root: string, p: string, requested: string): void {
  if (path.relative(root, p).split(path.sep)[0] === '.git')
    throw new ToolError(`path ${requested} is inside .git, which agents may not touch`);
}

async function lstatOrNull(p: string) {
  try {
    return await lstat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
