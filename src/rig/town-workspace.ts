import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { GastownError } from '../errors.js';

/**
 * A town is a folder holding rigs: `<town>/gastown-town.json` marks it, and each rig is
 * `<town>/<rig>/rig.git` (a shared bare clone whose common git directory holds the rig's
 * ledger and settings) with its people's workspaces under `<town>/<rig>/crew/<name>`.
 * The rig list is the folders themselves, not a registry file: nothing to keep in step,
 * and two `gt rig add` at once cannot lose each other's entry.
 */
export const TOWN_FILE = 'gastown-town.json';
const RIG_NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;

export interface TownInfo {
  dir: string;
  createdAt: string;
}

/** `GT_TOWN`, else `~/gt`. */
export function defaultTownDir(env: NodeJS.ProcessEnv, home: string): string {
  const fromEnv = env.GT_TOWN?.trim();
  return resolve(fromEnv || join(home, 'gt'));
}

export function isTownRoot(dir: string): boolean {
  return existsSync(join(dir, TOWN_FILE));
}

/** Makes `dir` a town (idempotent: an existing town is kept as it is). */
export function initTown(dir: string, now: Date): TownInfo & { created: boolean } {
  const root = resolve(dir);
  if (isTownRoot(root)) return { ...readTown(root), created: false };
  if (existsSync(join(root, '.git')))
    throw new GastownError('gastown_bad_input', `${root} is a git repository: a town is a plain folder that holds rigs`);
  const info = { version: 1, createdAt: now.toISOString() };
  try {
    makeDirs(root);
    // Written whole then renamed: a crash leaves no half-written marker.
    const tmp = join(root, `${TOWN_FILE}.${process.pid}.tmp`);
    writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`);
    renameSync(tmp, join(root, TOWN_FILE));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new GastownError('gastown_bad_input', `cannot make a town at ${root}: ${code} (${(err as Error).message.split(',')[0]})`);
  }
  return { dir: root, createdAt: info.createdAt, created: true };
}

/**
 * `mkdir -p`, one level at a time: Node 20's own `mkdirSync(..., {recursive: true})` never
 * returns for a path under /proc (it retries ENOENT forever), where this fails at once.
 */
function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

export function readTown(dir: string): TownInfo {
  try {
    const raw = JSON.parse(readFileSync(join(dir, TOWN_FILE), 'utf8')) as { createdAt?: unknown };
    return { dir, createdAt: typeof raw.createdAt === 'string' ? raw.createdAt : '' };
  } catch (err) {
    throw new GastownError('gastown_config', `${join(dir, TOWN_FILE)} cannot be read: ${(err as Error).message}`);
  }
}

/**
 * The town around `cwd` (its folder or any folder inside it), else `GT_TOWN`, else `~/gt`
 * when that is a town; null when there is none.
 */
export function findTown(cwd: string, env: NodeJS.ProcessEnv, home: string): string | null {
  let dir = resolve(cwd);
  for (;;) {
    if (isTownRoot(dir)) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const fallback = defaultTownDir(env, home);
  return isTownRoot(fallback) ? fallback : null;
}

export function mustFindTown(cwd: string, env: NodeJS.ProcessEnv, home: string): string {
  const town = findTown(cwd, env, home);
  if (!town) throw new GastownError('gastown_not_found', 'no town here: run `gt town init [dir]` (default ~/gt, or set GT_TOWN)');
  return town;
}

export function checkRigName(name: string): string {
  if (!RIG_NAME.test(name))
    throw new GastownError(
      'gastown_bad_input',
      `bad rig name ${JSON.stringify(name)}: lowercase letters, digits, - and _, starting with a letter or digit (at most 40)`,
    );
  return name;
}

export function rigDir(town: string, name: string): string {
  return join(town, name);
}

/** The rig's shared bare clone: its git directory is the rig's (ledger, settings, objects). */
export function rigGitDir(town: string, name: string): string {
  return join(town, name, 'rig.git');
}

/** The rigs of a town, by name: the folders holding a `rig.git`. */
export function rigNames(town: string): string[] {
  return readdirSync(town, { withFileTypes: true })
    .filter((e) => e.isDirectory() && RIG_NAME.test(e.name) && existsSync(join(town, e.name, 'rig.git', 'HEAD')))
    .map((e) => e.name)
    .sort();
}

/** The rig whose folder holds `cwd`, when `cwd` is inside one of the town's rigs. */
export function rigAround(town: string, cwd: string): string | null {
  const rel = resolve(cwd).slice(resolve(town).length + 1);
  if (!resolve(cwd).startsWith(`${resolve(town)}/`)) return null;
  const first = rel.split('/')[0] ?? '';
  return rigNames(town).includes(first) ? first : null;
}
