import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GastownError } from '../errors.js';
import { redact, runGit } from '../ledger/run-git.js';
import { listCrew, type CrewMember } from './crew.js';
import { recordRigSettings } from './first-use.js';
import { DEFAULT_LEDGER_PREFIX, ledgerPrefixOf } from './repo-ledger-prefix.js';
import { readRigSettings, writeRigSettings, type RigSettings } from './rig-settings.js';
import { Rig } from './rig.js';
import { rigStatus, type RigStatus } from './status.js';
import { syncRig } from './sync-rig.js';
import { checkRigName, rigDir, rigGitDir, rigNames } from './town-workspace.js';

export interface TownRig {
  name: string;
  url: string | null;
  gitDir: string;
  settings: RigSettings;
  crew: CrewMember[];
}

export interface AddedRig extends TownRig {
  /** False when the rig was there already (then it was only synced). */
  created: boolean;
  /** Ledger refs the rig holds once joined (0: the remote had no ledger, a new one starts here). */
  joinedRefs: number;
}

/**
 * Brings a project into the town: a bare clone of `url` shared by the rig's workspaces,
 * its ledger fetched from the remote and joined, its settings recorded (remote `origin`,
 * the remote's default branch, plus `changes`). The clone is made under a temporary name and
 * renamed when complete, so a crash leaves no half rig; adding it again only syncs.
 */
export async function addRig(
  town: string,
  name: string,
  url: string,
  opts: { changes?: Partial<RigSettings>; now: Date; actor: string; onProgress?: (line: string) => void },
): Promise<AddedRig> {
  checkRigName(name);
  if (!url.trim()) throw new GastownError('gastown_bad_input', 'give the rig a git URL (or path)');
  const gitDir = rigGitDir(town, name);
  if (existsSync(join(gitDir, 'HEAD'))) {
    const had = await originUrl(gitDir);
    if (had !== url) throw new GastownError('gastown_conflict', `rig ${name} already exists with remote ${redact(had ?? '(none)')}`);
    const joinedRefs = await joinLedger(gitDir, opts);
    return { ...(await describeRig(town, name)), created: false, joinedRefs };
  }
  mkdirSync(rigDir(town, name), { recursive: true });
  const tmp = join(rigDir(town, name), `.rig.git.${process.pid}.tmp`);
  rmSync(tmp, { recursive: true, force: true });
  opts.onProgress?.(`cloning ${redact(url)}`);
  try {
    await runGit(['clone', '--quiet', '--bare', url, tmp], { cwd: town });
    // A bare clone maps no remote-tracking branches; crew workspaces start from them.
    await runGit(['config', 'remote.origin.fetch', '+refs/heads/*:refs/remotes/origin/*'], { cwd: tmp });
    await runGit(['fetch', '--quiet', 'origin'], { cwd: tmp });
    const settings = await recordRigSettings(tmp, opts.changes ?? {}, opts.now);
    // A bare clone has no working tree for Rig.open to read `.github/gastown.yml` from: take
    // its ledgerPrefix from the default branch now, as a workspace of the rig will read it.
    const prefix = await committedLedgerPrefix(tmp, settings.defaultBranch);
    if (prefix !== settings.prefix && settings.prefixFrom !== 'option')
      writeRigSettings(tmp, { ...settings, prefix, prefixFrom: prefix === DEFAULT_LEDGER_PREFIX ? 'default' : 'repo-config' });
    renameSync(tmp, gitDir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  const joinedRefs = await joinLedger(gitDir, opts);
  return { ...(await describeRig(town, name)), created: true, joinedRefs };
}

/** Fetches the remote's ledger into the rig and merges (the same sync as `gt sync`). */
async function joinLedger(gitDir: string, opts: { now: Date; actor: string; onProgress?: (line: string) => void }): Promise<number> {
  const rig = await Rig.open({ repoDir: gitDir, actor: opts.actor, now: () => opts.now });
  try {
    if (!rig.settings.remote) return 0;
    opts.onProgress?.('joining the ledger');
    await syncRig(rig, rig.settings.remote, opts.onProgress ? { onProgress: opts.onProgress } : {});
    // Counted after the sync rather than from its result: on the refs/heads/ fallback prefix
    // the bare clone itself already brought the ledger's refs, which are the remote's own.
    return (await rig.ledger.refs()).size;
  } finally {
    rig.close();
  }
}

async function committedLedgerPrefix(gitDir: string, branch: string): Promise<string> {
  const r = await runGit(['cat-file', 'blob', `refs/heads/${branch}:.github/gastown.yml`], { cwd: gitDir, okCodes: [128] });
  return r.code === 0 ? ledgerPrefixOf(r.stdout.toString('utf8')) : DEFAULT_LEDGER_PREFIX;
}

async function originUrl(gitDir: string): Promise<string | null> {
  const r = await runGit(['config', '--get', 'remote.origin.url'], { cwd: gitDir, okCodes: [1] });
  return r.code === 0 ? r.stdout.toString().trim() : null;
}

export async function describeRig(town: string, name: string): Promise<TownRig> {
  const gitDir = rigGitDir(town, name);
  const settings = readRigSettings(gitDir);
  if (!settings) throw new GastownError('gastown_not_found', `no rig ${name} in ${town} (gt rig list)`);
  const url = await originUrl(gitDir);
  // Shown and printed: a token in the URL (https://x-access-token:...@) must not be.
  return { name, url: url === null ? null : redact(url), gitDir, settings, crew: listCrew(town, name) };
}

export async function listRigs(town: string): Promise<TownRig[]> {
  const out: TownRig[] = [];
  for (const name of rigNames(town)) out.push(await describeRig(town, name));
  return out;
}

/**
 * Takes a rig out of the town. Nothing is lost silently: the ledger is synced first (its
 * local writes pushed) and a crew workspace with uncommitted or unpushed work stops it,
 * unless `force`. The folder is renamed away before it is deleted, so a crash mid-delete
 * leaves no half rig that looks whole.
 */
export async function removeRig(
  town: string,
  name: string,
  opts: { force?: boolean; now: Date; actor: string },
): Promise<{ name: string; synced: boolean }> {
  checkRigName(name);
  const rig = await describeRig(town, name);
  let synced = false;
  if (!opts.force) {
    for (const c of rig.crew) {
      const dirty = (await runGit(['status', '--porcelain'], { cwd: c.dir })).stdout.toString().trim();
      if (dirty) throw new GastownError('gastown_conflict', `crew ${c.name} has uncommitted changes in ${c.dir} (--force removes anyway)`);
      if (rig.settings.remote) {
        const ahead = await runGit(['rev-list', '--count', c.branch, '--not', '--remotes'], { cwd: rig.gitDir });
        if (Number(ahead.stdout.toString().trim()) > 0)
          throw new GastownError('gastown_conflict', `crew ${c.name}'s ${c.branch} has commits no remote has (push them, or --force)`);
      }
    }
    if (rig.settings.remote) {
      try {
        await joinLedger(rig.gitDir, opts);
        synced = true;
      } catch (err) {
        throw new GastownError(
          'gastown_sync',
          `cannot push the ledger of ${name} before removing it (${(err as Error).message}); --force removes anyway`,
        );
      }
    }
  }
  const trash = join(town, `.${name}.removed.${process.pid}`);
  renameSync(rigDir(town, name), trash);
  rmSync(trash, { recursive: true, force: true });
  return { name, synced };
}

export interface TownRigStatus {
  name: string;
  url: string | null;
  crew: string[];
  status: RigStatus | null;
  /** Why the rig's status could not be read (a broken settings file...). */
  error: string | null;
}

/** Every rig of the town at a glance (what `gt status` shows at the town's root). */
export async function townStatus(town: string, opts: { now: () => Date; actor: string }): Promise<TownRigStatus[]> {
  const out: TownRigStatus[] = [];
  for (const name of rigNames(town)) {
    const gitDir = rigGitDir(town, name);
    try {
      const rig = await Rig.open({ repoDir: gitDir, actor: opts.actor, now: opts.now });
      try {
        out.push({
          name,
          url: ((u) => (u === null ? null : redact(u)))(await originUrl(gitDir)),
          crew: listCrew(town, name).map((c) => c.name),
          status: await rigStatus(rig),
          error: null,
        });
      } finally {
        rig.close();
      }
    } catch (err) {
      out.push({ name, url: null, crew: [], status: null, error: (err as Error).message });
    }
  }
  return out;
}
