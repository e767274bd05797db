import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { GastownError } from '../errors.js';
import { runGit } from '../ledger/run-git.js';
import { readRigSettings } from './rig-settings.js';
import { rigDir, rigGitDir } from './town-workspace.js';

/**
 * A crew member is a person with a workspace of their own in a rig: a worktree of the rig's
 * shared bare clone on `crew/<name>`. Being a worktree, it shares the rig's git directory,
 * so its `gt` commands use the rig's ledger and settings; the worktree's private git
 * directory records whose it is (`gastown-crew.json`), so they act as that person.
 */
const CREW_FILE = 'gastown-crew.json';
const CREW_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,38}$/;

export interface CrewMember {
  name: string;
  rig: string;
  dir: string;
  branch: string;
}

/**
 * Whose workspace `dir` is: read from the worktree's private git directory, found through
 * the `.git` file (no git process: this runs on every command). Null outside a crew workspace.
 */
export function crewIdentity(dir: string): { name: string; rig: string } | null {
  let at = resolve(dir);
  for (;;) {
    const dotGit = join(at, '.git');
    if (existsSync(dotGit)) {
      if (statSync(dotGit).isDirectory()) return null;
      const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'));
      if (!m) return null;
      const own = isAbsolute(m[1]!.trim()) ? m[1]!.trim() : resolve(at, m[1]!.trim());
      try {
        const raw = JSON.parse(readFileSync(join(own, CREW_FILE), 'utf8')) as { name?: unknown; rig?: unknown };
        return typeof raw.name === 'string' && CREW_NAME.test(raw.name) ? { name: raw.name, rig: String(raw.rig ?? '') } : null;
      } catch {
        return null;
      }
    }
    const up = dirname(at);
    if (up === at) return null;
    at = up;
  }
}

export function crewDir(town: string, rig: string, name: string): string {
  return join(rigDir(town, rig), 'crew', name);
}

/**
 * Gives `name` a workspace in the rig: fetches the remote, adds a worktree on `crew/<name>`
 * from the remote's default branch, and records whose it is. Idempotent: a workspace that
 * exists is returned as it is (its branch and work untouched).
 */
export async function addCrew(town: string, rig: string, name: string): Promise<CrewMember & { created: boolean }> {
  if (!CREW_NAME.test(name))
    throw new GastownError(
      'gastown_bad_input',
      `bad crew name ${JSON.stringify(name)}: letters, digits, ., - and _, starting with a letter or digit`,
    );
  const gitDir = rigGitDir(town, rig);
  const settings = readRigSettings(gitDir);
  if (!settings) throw new GastownError('gastown_not_found', `no rig ${rig} in ${town} (gt rig list)`);
  const dir = crewDir(town, rig, name);
  const branch = `crew/${name}`;
  if (existsSync(join(dir, '.git'))) {
    const who = crewIdentity(dir);
    if (who?.name !== name) throw new GastownError('gastown_conflict', `${dir} exists but is not ${name}'s workspace`);
    return { name, rig, dir, branch, created: false };
  }
  if (settings.remote) await runGit(['fetch', '--quiet', settings.remote], { cwd: gitDir });
  const start = settings.remote ? `refs/remotes/${settings.remote}/${settings.defaultBranch}` : `refs/heads/${settings.defaultBranch}`;
  const hasStart = (await runGit(['rev-parse', '--verify', '--quiet', `${start}^{commit}`], { cwd: gitDir, okCodes: [1] })).code === 0;
  const hasBranch = (await runGit(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], { cwd: gitDir, okCodes: [1] })).code === 0;
  // A branch left by an earlier workspace (removed, or a crash after `worktree add`) is kept: it may hold work.
  if (!hasBranch && !hasStart)
    throw new GastownError('gastown_not_found', `the rig's default branch ${settings.defaultBranch} has no commits yet: push one first`);
  const args = hasBranch
    ? ['worktree', 'add', '--quiet', dir, branch]
    : ['worktree', 'add', '--quiet', '--no-track', '-b', branch, dir, start];
  await runGit(['worktree', 'prune'], { cwd: gitDir });
  await runGit(args, { cwd: gitDir });
  writeFileSync(join(ownGitDir(dir), CREW_FILE), `${JSON.stringify({ name, rig }, null, 2)}\n`);
  return { name, rig, dir, branch, created: true };
}

/** The crew workspaces of a rig, by name. */
export function listCrew(town: string, rig: string): CrewMember[] {
  const root = join(rigDir(town, rig), 'crew');
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && crewIdentity(join(root, e.name))?.name === e.name)
    .map((e) => ({ name: e.name, rig, dir: join(root, e.name), branch: `crew/${e.name}` }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** A worktree's private git directory, from its `.git` file. */
function ownGitDir(worktree: string): string {
  const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(join(worktree, '.git'), 'utf8'));
  if (!m) throw new GastownError('gastown_git', `${worktree}/.git does not name its git directory`);
  const p = m[1]!.trim();
  return isAbsolute(p) ? p : resolve(worktree, p);
}
