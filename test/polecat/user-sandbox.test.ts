import { chmod, lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isGastownError } from '../../src/errors.js';
import { ensureAgentUser, type AgentUser } from '../../src/polecat/sandbox/agent-user.js';
import { detectSandbox } from '../../src/polecat/sandbox/detect-sandbox.js';
import { runInSandbox, type Sandbox, type SandboxSpec } from '../../src/polecat/sandbox/sandbox.js';
import { sandboxEnv } from '../../src/polecat/sandbox/sandbox-env.js';
import { createUserSandbox, USER_SANDBOX_GAPS } from '../../src/polecat/sandbox/user-sandbox.js';

/**
 * The user sandbox, forced (bubblewrap works on this machine, so `auto` would not pick it):
 * real setpriv, the real gastown-agent user (created by the product's own setup when
 * missing), real file permissions. The runner here is root, as the user sandbox requires.
 */
let root: string;
let base: string;
let user: AgentUser;
let sandbox: Sandbox;
let spec: SandboxSpec;
let secretDir: string;
const SECRET = 'ghs_userSandboxKnownSecret42';

beforeEach(async () => {
  user = await ensureAgentUser(process.env);
  root = await mkdtemp(path.join(os.tmpdir(), 'gastown-usersb-'));
  // A world-readable "rig" with a config holding the token, as a careless checkout leaves it.
  await chmod(root, 0o755);
  secretDir = path.join(root, 'rig');
  await mkdir(path.join(secretDir, '.git'), { recursive: true, mode: 0o755 });
  await writeFile(path.join(secretDir, '.git', 'config'), `[http]\n\textraheader = AUTHORIZATION: basic ${SECRET}\n`, { mode: 0o644 });
  base = path.join(root, 'workspaces');
  sandbox = createUserSandbox({ user, setpriv: '/usr/bin/setpriv', workspaceBase: base });
  const wsRoot = sandbox.workspaceRoot!(path.join(secretDir, '.git'));
  const workspace = path.join(wsRoot, 'nux-gt-1', 'repo');
  const home = path.join(wsRoot, 'nux-gt-1', 'home');
  await mkdir(workspace, { recursive: true });
  await mkdir(home);
  await writeFile(path.join(workspace, 'README.md'), 'by the runner\n');
  process.env.GITHUB_TOKEN = SECRET;
  spec = {
    workspace,
    home,
    env: sandboxEnv({ source: process.env, allow: [], home, extra: { GASTOWN_BEAD: 'gt-1' } }),
    network: false,
    readOnly: [],
    hide: [secretDir],
  };
});
afterEach(async () => {
  delete process.env.GITHUB_TOKEN;
  await rm(root, { recursive: true, force: true });
});

async function run(script: string, s: SandboxSpec = spec) {
  const r = await runInSandbox(sandbox, s, ['bash', '-c', script], { timeoutMs: 20_000 });
  return { code: r.exitCode, out: r.output };
}

describe('the user sandbox (forced)', () => {
  it("runs as the agent user, writes only its workspace and HOME, and reads none of the runner's secrets", async () => {
    const r = await run(
      [
        'id -u',
        'echo w >> README.md && echo h > "$HOME/in-home.txt" && echo wrote',
        `cat ${secretDir}/.git/config 2>&1 | sed 's/^.*: //'`,
        'cat /proc/$PPID/environ 2>&1 | sed "s/^.*: //"',
        'env | grep -c GITHUB_TOKEN',
        `touch ${root}/beside 2>&1 | sed 's/^.*: //'`,
        'touch /usr/x 2>/dev/null || echo usr-read-only',
        'echo "$TMPDIR"',
      ].join('\n'),
    );

    expect(r.out.split('\n')).toEqual([
      String(user.uid),
      'wrote',
      'Permission denied',
      'Permission denied',
      '0',
      'Permission denied',
      'usr-read-only',
      path.join(spec.home, '.tmp'),
      '',
    ]);
    expect(await readFile(path.join(spec.workspace, 'README.md'), 'utf8')).toBe('by the runner\nw\n');
    // The hidden rig was made private to its owner; the runner still reads it.
    expect((await stat(secretDir)).mode & 0o777).toBe(0o700);
    expect(await readFile(path.join(secretDir, '.git', 'config'), 'utf8')).toContain(SECRET);
  });

  it('gives the runner-written files of the workspace over, but never a file a symlink points at', async () => {
    const outside = path.join(root, 'outside.txt');
    await writeFile(outside, "the runner's\n", { mode: 0o644 });
    await run('ln -s ../../../../outside.txt link && mkdir -p sub && ln -s /etc sub/etc');
    // The runner writes again (as the built-in agent's file tools do): a new file, root's.
    await mkdir(path.join(spec.workspace, 'new'));
    await writeFile(path.join(spec.workspace, 'new', 'file.txt'), 'x\n');

    const r = await run('echo y >> new/file.txt && touch new/other && echo edited');

    expect(r.out).toBe('edited\n');
    expect((await lstat(path.join(spec.workspace, 'new', 'file.txt'))).uid).toBe(user.uid);
    expect((await stat(outside)).uid).toBe(0);
    expect((await stat('/etc')).uid).toBe(0);
    expect((await lstat(path.join(spec.workspace, 'link'))).isSymbolicLink()).toBe(true);
  });

  it('refuses to run a command outside its workspaces (the Refinery worktree needs bubblewrap)', async () => {
    const elsewhere = path.join(root, 'elsewhere');
    await mkdir(elsewhere);

    const err = await runInSandbox(sandbox, { ...spec, workspace: elsewhere }, ['true']).catch((e: unknown) => e);

    expect(isGastownError(err, 'gastown_config')).toBe(true);
    expect((err as Error).message).toContain("the local Refinery's gate needs bubblewrap");
  });

  it('refuses a workspace base that others can write (anyone may have made it in /tmp)', async () => {
    const open = path.join(root, 'open');
    await mkdir(open, { mode: 0o777 });
    await chmod(open, 0o777);
    const s = createUserSandbox({ user, setpriv: '/usr/bin/setpriv', workspaceBase: open });

    expect(() => s.workspaceRoot!('/x/.git')).toThrow(/not a directory only this runner's user can write/);
  });

  it('refuses to make private a directory the workspaces lie under (as a HOME of / would be), and changes nothing', async () => {
    // The test's own root stands for `/`: the same rule, without risking the machine's root.
    const before = (await stat(root)).mode;

    const err = await runInSandbox(sandbox, { ...spec, hide: [root] }, ['true']).catch((e: unknown) => e);

    expect(isGastownError(err, 'gastown_config')).toBe(true);
    expect((err as Error).message).toContain(`the user sandbox cannot make ${root} private: the agents' workspaces are under it`);
    expect((await stat(root)).mode).toBe(before);
  });

  it('is what detection gives when asked for it, and says what it does not cover', async () => {
    const found = await detectSandbox(process.env, 'user');

    expect(found.available).toBe(true);
    expect(found.available && found.sandbox.name).toBe('user');
    expect(found.available && found.detail).toContain('user sandbox: agents run as gastown-agent');
    for (const gap of USER_SANDBOX_GAPS) expect(found.available && found.detail).toContain(gap);
    expect(found.available && found.detail).toContain('no network isolation');
  });
});
