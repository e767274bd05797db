import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { GastownError, isGastownError } from '../errors.js';
import { crewIdentity } from '../rig/crew.js';
import { findGitCommonDir } from '../rig/find-git-dir.js';
import { hasRemote } from '../rig/first-use.js';
import { settingsPath } from '../rig/rig-settings.js';
import { Rig } from '../rig/rig.js';
import { townService, type TownService } from '../rig/town-service.js';

/** What a command needs from its surroundings; passed in, so tests can run commands in-process. */
export interface CliContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream;
  now: () => Date;
}

export function processContext(): CliContext {
  return {
    cwd: process.cwd(),
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    // A getter: creating process.stdin sets up a stream on fd 0 (~1 ms), and only `import -` reads it.
    get stdin() {
      return process.stdin;
    },
    now: () => new Date(),
  };
}

/** Who a person at the CLI is: GT_ACTOR, else the crew member whose workspace this is, else the login name. */
export function actorOf(ctx: CliContext): string {
  const fromEnv = ctx.env.GT_ACTOR?.trim();
  if (fromEnv) return fromEnv;
  const crew = crewIdentity(ctx.cwd);
  if (crew) return crew.name;
  try {
    return userInfo().username || 'human';
  } catch {
    return 'human';
  }
}

export async function openRig(ctx: CliContext, opts: { actor?: string } = {}): Promise<Rig> {
  try {
    return await Rig.open({ repoDir: ctx.cwd, actor: opts.actor ?? actorOf(ctx), now: ctx.now, onInvalid: warnSkipped(ctx) });
  } catch (err) {
    // A teammate's clone of a rig: its remote holds the ledger, this clone has no settings yet.
    if (isGastownError(err, 'gastown_not_a_rig') && findGitCommonDir(ctx.cwd) && (await hasRemote(ctx.cwd, 'origin')))
      throw new GastownError(
        'gastown_not_a_rig',
        "this clone is not a rig yet: `gt sync` fetches the ledger from origin and records the rig's settings (`gt init` starts a new rig)",
      );
    throw err;
  }
}

/** Whether the repository around `dir` has rig settings (`gt init` or a first `gt sync` ran). */
export function isRig(dir: string): boolean {
  const gitDir = findGitCommonDir(dir);
  return !!gitDir && existsSync(settingsPath(gitDir));
}

/** One stderr line per entity a read left out: the command goes on with the others. */
export function warnSkipped(ctx: CliContext): (ref: string, problem: string) => void {
  return (ref, problem) => ctx.stderr.write(`warning: skipped ${ref}: ${problem} (see gt doctor)\n`);
}

/**
 * The town service over the rig (the operations GitHub and Slack call too), with the rig for
 * what only the CLI does; closed like `withRig`.
 */
export function withTown<T>(ctx: CliContext, fn: (town: TownService, rig: Rig) => Promise<T>, opts: { actor?: string } = {}): Promise<T> {
  return withRig(ctx, (rig) => fn(townService(rig), rig), opts);
}

/** Opens the rig, runs `fn`, always closes the long-lived git processes. */
export async function withRig<T>(ctx: CliContext, fn: (rig: Rig) => Promise<T>, opts: { actor?: string } = {}): Promise<T> {
  const rig = await openRig(ctx, opts);
  try {
    return await fn(rig);
  } finally {
    rig.close();
  }
}
