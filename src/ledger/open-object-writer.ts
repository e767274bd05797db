/**
 * A writer of loose objects into a git directory's object store, found by one `rev-parse`
 * (where the objects live, and their hash). Whoever keeps the directory keeps the writer:
 * nothing here outlives the caller, so a directory removed and made anew (perhaps in the
 * other object format) is never written with a writer of the old one.
 */
import { resolve } from 'node:path';
import { ObjectWriter } from './git-objects.js';
import { runGit } from './run-git.js';

export async function openObjectWriter(gitDir: string): Promise<ObjectWriter> {
  const r = await runGit(['rev-parse', '--git-path', 'objects', '--show-object-format'], { cwd: gitDir });
  const [objects, format] = r.stdout.toString('utf8').trim().split('\n') as [string, string | undefined];
  return new ObjectWriter(resolve(gitDir, objects), format?.trim() === 'sha256' ? 'sha256' : 'sha1');
}
