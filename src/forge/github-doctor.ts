/**
 * `gt doctor --github`: what a rig on GitHub relies on that GitHub itself holds. The
 * repository is `--repo`, else GITHUB_REPOSITORY, else read from the rig's remote URL; the
 * token is GITHUB_TOKEN or GH_TOKEN; the API GITHUB_API_URL, else the remote host's.
 *   - default branch protection (`branch-protection.ts`): FAIL when nothing on GitHub's side
 *     stops a push to it, a warning (not a failure) when GitHub would not say;
 *   - the polecat workflow in the working tree: pinned to the action, not `npx gt`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runGitText } from '../ledger/run-git.js';
import type { DoctorCheck } from '../rig/doctor.js';
import { checkBranchProtection, fetchGet } from './branch-protection.js';
import { describeExisting, WORKFLOW_PATH } from './polecat-workflow.js';

export interface GitHubDoctorInput {
  repoDir: string;
  /** The rig's remote: a name (its URL is read from git) or a URL. */
  remote: string;
  defaultBranch: string;
  env: NodeJS.ProcessEnv;
  /** `owner/repo` given on the command line. */
  repo?: string;
  fetch?: typeof fetch;
}

export async function githubDoctor(input: GitHubDoctorInput): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const remoteUrl = /^[A-Za-z0-9._-]+$/.test(input.remote)
    ? (await runGitText(['remote', 'get-url', input.remote], { cwd: input.repoDir, okCodes: [0, 2, 128] })).stdout.trim() || null
    : input.remote;
  const where = repositoryOf(input, remoteUrl);
  if (!where) {
    checks.push({
      name: 'github repository',
      ok: false,
      detail: 'cannot tell which GitHub repository this rig is: pass --repo owner/repo (or set GITHUB_REPOSITORY)',
    });
  } else {
    checks.push({ name: 'github repository', ok: true, detail: `${where.owner}/${where.repo} (${where.from})` });
    const token = input.env.GITHUB_TOKEN?.trim() || input.env.GH_TOKEN?.trim();
    const apiUrl = input.env.GITHUB_API_URL?.trim() || where.apiUrl;
    if (!token) {
      checks.push({
        name: 'default branch protection',
        ok: false,
        detail: 'set GITHUB_TOKEN or GH_TOKEN (a token that can read the repository) to check it',
      });
    } else {
      const p = await checkBranchProtection(fetchGet(apiUrl, token, input.fetch), where.owner, where.repo, input.defaultBranch);
      checks.push(
        p.state === 'protected'
          ? { name: 'default branch protection', ok: true, detail: `${p.branch}: protected by ${p.detail}` }
          : p.state === 'unprotected'
            ? {
                name: 'default branch protection',
                ok: false,
                detail: `${p.branch} is not protected: ${p.detail} (recommended: a ruleset or branch protection rule that requires a pull request)`,
              }
            : {
                name: 'default branch protection',
                ok: true,
                warn: true,
                detail: `${p.branch}: unknown, ${p.detail}${p.cause === 'refused' ? ' (the token may not read it)' : ''}`,
              },
      );
    }
  }
  checks.push(workflowCheck(input.repoDir));
  return checks;
}

function workflowCheck(repoDir: string): DoctorCheck {
  const path = join(repoDir, WORKFLOW_PATH);
  if (!existsSync(path))
    return {
      name: 'polecat workflow',
      ok: true,
      warn: true,
      detail: `no ${WORKFLOW_PATH}: run gt install-workflow (the app dispatches it for each bead)`,
    };
  const what = describeExisting(readFileSync(path, 'utf8'));
  if (what === 'npx')
    return {
      name: 'polecat workflow',
      ok: false,
      detail: `${WORKFLOW_PATH} runs npx gt, which can fetch an unrelated package named gt: run gt install-workflow --force`,
    };
  if (what === 'changed')
    return { name: 'polecat workflow', ok: true, warn: true, detail: `${WORKFLOW_PATH} uses no pinned action (changed by hand?)` };
  return { name: 'polecat workflow', ok: true, detail: `uses ${what.pinned}` };
}

/** `owner/repo` and the API it lives on, from --repo, GITHUB_REPOSITORY or the remote URL. */
function repositoryOf(
  input: GitHubDoctorInput,
  remoteUrl: string | null,
): { owner: string; repo: string; from: string; apiUrl: string } | null {
  const named = (input.repo ?? input.env.GITHUB_REPOSITORY ?? '').trim();
  const fromName = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(named);
  if (fromName)
    return { owner: fromName[1]!, repo: fromName[2]!, from: input.repo ? '--repo' : 'GITHUB_REPOSITORY', apiUrl: 'https://api.github.com' };
  const found = remoteUrl ? repositoryFromRemote(remoteUrl) : null;
  return found ? { ...found, from: "the rig's remote" } : null;
}

/** `owner/repo` and its API from a remote URL on a GitHub host; null for anything else (file://, a bare path). */
export function repositoryFromRemote(url: string): { owner: string; repo: string; apiUrl: string } | null {
  // https://[user@]host/owner/repo(.git), ssh://git@host/owner/repo.git, git@host:owner/repo.git
  const m =
    /^(?:(?:https?|ssh|git):\/\/(?:[^@/]+@)?([^/:]+)(?::\d+)?\/|[^@/]+@([^:/]+):)([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(
      url.trim(),
    );
  if (!m) return null;
  const host = (m[1] ?? m[2])!.toLowerCase();
  return { owner: m[3]!, repo: m[4]!, apiUrl: host === 'github.com' ? 'https://api.github.com' : `https://${host}/api/v3` };
}
