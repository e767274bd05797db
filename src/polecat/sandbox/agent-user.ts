import { GastownError } from '../../errors.js';
import { runProcess } from '../run-process.js';
import { findOnPath } from './find-on-path.js';

/** The dedicated user agents run as under the user sandbox. */
export const AGENT_USER = 'gastown-agent';

export interface AgentUser {
  name: string;
  uid: number;
  gid: number;
}

const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/** The user's uid and primary gid from the system's user database, or null when there is none. */
export async function lookupUser(name: string, env: Record<string, string | undefined>): Promise<AgentUser | null> {
  const getent = findOnPath('getent', env.PATH ?? '');
  if (!getent) return null;
  const run = await runProcess(getent, ['passwd', name], { cwd: '/', env: { PATH: env.PATH ?? '' }, timeoutMs: 10_000 });
  const fields = run.exitCode === 0 ? run.output.trim().split('\n')[0]!.split(':') : [];
  if (fields.length < 4 || fields[0] !== name) return null;
  return { name, uid: Number(fields[2]), gid: Number(fields[3]) };
}

/**
 * The agent user, created when it is missing: a system user with its own group, no home, no
 * login shell, no password. Creating it needs root (the user sandbox needs root anyway to
 * switch users). Root (uid 0) is never accepted as the agent user.
 */
export async function ensureAgentUser(env: Record<string, string | undefined>, name: string = AGENT_USER): Promise<AgentUser> {
  if (!USER_NAME.test(name)) throw new GastownError('gastown_bad_input', `invalid agent user name '${name}'`);
  let user = await lookupUser(name, env);
  if (!user) {
    const useradd = findOnPath('useradd', env.PATH ?? '');
    if (!useradd)
      throw new GastownError('gastown_config', `there is no user ${name} and no useradd to create it: create it (a system user)`);
    const run = await runProcess(
      useradd,
      ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', name],
      { cwd: '/', env: { PATH: env.PATH ?? '' }, timeoutMs: 30_000 },
    );
    user = await lookupUser(name, env);
    // Another runner may have created it at the same moment ("already exists"): the lookup decides.
    if (!user) throw new GastownError('gastown_config', `could not create the agent user ${name}: ${run.output.trim().split('\n')[0]}`);
  }
  if (user.uid === 0 || user.gid === 0) throw new GastownError('gastown_config', `the agent user ${name} has uid or gid 0: refused`);
  return user;
}
