/**
 * The polecat workflow a repository runs on GitHub Actions: the template shipped in
 * templates/, with the polecat action pinned (`uses: <owner>/<repo>@<ref>`), and what an
 * existing workflow file is (`gt install-workflow` and `gt doctor --github` both ask).
 */
import { readFileSync } from 'node:fs';
import { GastownError } from '../errors.js';
import { packagePath } from '../polecat/runner/hooks-dir.js';
import { VERSION } from '../version.js';

export const WORKFLOW_PATH = '.github/workflows/gastown-polecat.yml';

/** Where this project's action lives (the repository of package.json and app.yml). */
export const DEFAULT_ACTION_REPO = 'gastown-dev/gastown';

/** The release of the action this version of `gt` writes: the tag of this very version. */
export const DEFAULT_ACTION_REF = `v${VERSION}`;

const PLACEHOLDER = '__GASTOWN_ACTION__';

/** The workflow template shipped in the package's templates/, with `__GASTOWN_ACTION__` where the action goes. */
export function workflowTemplate(): string {
  return readFileSync(packagePath('templates/gastown-polecat.yml'), 'utf8');
}

/** `owner/repo@ref`, checked: a workflow's `uses:` takes nothing else, and an unpinned ref is refused. */
export function actionReference(repo: string = DEFAULT_ACTION_REPO, ref: string = DEFAULT_ACTION_REF): string {
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repo))
    throw new GastownError('gastown_bad_input', `--action must be owner/repo (got ${repo})`);
  if (!/^[A-Za-z0-9_][A-Za-z0-9_./-]*$/.test(ref) || ref.includes('..'))
    throw new GastownError('gastown_bad_input', `--ref must be a tag, branch or commit sha (got ${ref})`);
  return `${repo}@${ref}`;
}

/** The polecat workflow using the action at `action` (`owner/repo@ref`). */
export function renderWorkflow(action: string = actionReference()): string {
  return workflowTemplate().replace(PLACEHOLDER, action);
}

/**
 * What an existing workflow file is, so the command can say why it would replace it: one
 * that runs `npx gt` (written by an older `gt`: in a repository that does not depend on this
 * package, npx fetches an unrelated package named `gt` and runs it with the job's secrets),
 * one that pins another release of the action, or one a person changed.
 */
export function describeExisting(text: string): 'npx' | { pinned: string } | 'changed' {
  if (/\bnpx\s+(--yes\s+|-y\s+)?gt\b/.test(text)) return 'npx';
  const pinned = /^\s*-?\s*uses:\s*(\S+\/\S+@\S+)\s*$/m.exec(text.replace(/^\s*-?\s*uses:\s*actions\/\S+\s*$/gm, ''));
  return pinned ? { pinned: pinned[1]! } : 'changed';
}
