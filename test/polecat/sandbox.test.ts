import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isGastownError } from '../../src/errors.js';
import { bwrapArgs, hostMounts } from '../../src/polecat/sandbox/bwrap-sandbox.js';
import { detectSandbox, requireSandbox } from '../../src/polecat/sandbox/detect-sandbox.js';
import { createNoSandbox } from '../../src/polecat/sandbox/no-sandbox.js';
import { runInSandbox, type SandboxSpec } from '../../src/polecat/sandbox/sandbox.js';
import { sandboxEnv } from '../../src/polecat/sandbox/sandbox-env.js';

let root: string;
let spec: SandboxSpec;
const SECRET = 'ghs_sandboxTestKnownSecret42';
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gastown-sandbox-'));
  const workspace = path.join(root, 'ws', 'repo');
  const home = path.join(root, 'ws', 'home');
  await mkdir(workspace, { recursive: true });
  await mkdir(home);
  process.env.GITHUB_TOKEN = SECRET;
  spec = {
    workspace,
    home,
    env: sandboxEnv({ source: process.env, allow: [], home, extra: { GASTOWN_BEAD: 'gt-1' } }),
    network: false,
    readOnly: [],
    hide: [],
  };
});
afterEach(async () => {
  delete process.env.GITHUB_TOKEN;
  await rm(root, { recursive: true, force: true });
});

async function inSandbox(script: string, s: SandboxSpec = spec) {
  const run = await runInSandbox(await requireSandbox(), s, ['bash', '-c', script], { timeoutMs: 20_000 });
  return { code: run.exitCode, out: run.output };
}

describe('the bubblewrap sandbox', () => {
  it('lets a command write its workspace and HOME, and nothing else of the host', async () => {
    await writeFile(path.join(root, 'beside.txt'), 'host\n');

    const run = await inSandbox(
      [
        'echo w > in-workspace.txt && echo h > "$HOME/in-home.txt" && echo t > /tmp/t && echo ok',
        `ls ${root}/ws`,
        `test -e ${root}/beside.txt && echo beside-visible || echo beside-absent`,
        `test -e ${os.homedir()} && echo home-visible || echo home-absent`,
        'touch /usr/x 2>/dev/null || echo usr-read-only',
        'touch /etc/x 2>/dev/null || echo etc-read-only',
      ].join('\n'),
    );
    const again = await inSandbox('test -e /tmp/t && echo kept || echo fresh');

    expect(run.out.split('\n')).toEqual(['ok', 'home', 'repo', 'beside-absent', 'home-absent', 'usr-read-only', 'etc-read-only', '']);
    expect(await readFile(path.join(spec.workspace, 'in-workspace.txt'), 'utf8')).toBe('w\n');
    expect(await readFile(path.join(spec.home, 'in-home.txt'), 'utf8')).toBe('h\n');
    expect(again.out).toBe('fresh\n');
  });

  it("gives exactly the environment asked for, and a /proc of its own where the runner's environment is not", async () => {
    const run = await inSandbox(
      'env | sort; echo ---; cat /proc/1/environ /proc/$PPID/environ | tr "\\0" "\\n"; echo ---; ls /proc | grep -c "^[0-9]"; grep -r . /proc/*/environ 2>/dev/null | grep -c GITHUB_TOKEN',
    );

    const [env, procEnv, counts] = run.out.split('---\n');
    const [pids, found] = counts!.trim().split('\n');
    const names = env!
      .trim()
      .split('\n')
      .map((l) => l.slice(0, l.indexOf('=')));
    expect(names.filter((n) => !['_', 'PWD', 'SHLVL', 'OLDPWD'].includes(n)).sort()).toEqual(Object.keys(spec.env).sort());
    expect(run.out).not.toContain(SECRET);
    expect(procEnv).not.toContain('GITHUB_TOKEN');
    expect(Number(pids)).toBeLessThan(6);
    expect(found).toBe('0');
  });

  it('has no network unless the spec allows it', async () => {
    const server: Server = createServer((s) => s.end('hello\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const probe = `exec 3<>/dev/tcp/127.0.0.1/${port} && head -1 <&3 || echo unreachable`;
    try {
      const closed = await inSandbox(probe);
      const open = await inSandbox(probe, { ...spec, network: true });

      expect(closed.out).toContain('unreachable');
      expect(open.out.trim()).toBe('hello');
    } finally {
      server.close();
    }
  });

  it('shows /etc by allow-list, drops every capability and forbids user namespaces of its own', async () => {
    const run = await inSandbox(
      [
        'test -r /etc/passwd && echo passwd',
        'for f in /etc/shadow /etc/gshadow /etc/npmrc /etc/environment /etc/ssh /etc/sudoers; do test -e $f && echo "visible $f"; done',
        'grep CapEff /proc/self/status',
        'unshare -U true 2>/dev/null || echo no-userns',
      ].join('\n'),
    );

    expect(run.out.split('\n')).toEqual(['passwd', 'CapEff:\t0000000000000000', 'no-userns', '']);
  });

  it('hides the given paths even under a directory it shows', async () => {
    const hidden = await inSandbox('ls /usr/share/doc | wc -l', { ...spec, hide: ['/usr/share/doc'] });
    const shown = await inSandbox('ls /usr/share/doc | wc -l');

    expect(hidden.out.trim()).toBe('0');
    expect(Number(shown.out.trim())).toBeGreaterThan(0);
    expect(bwrapArgs({ ...spec, hide: ['/usr/share/doc', '/srv/not-shown'] }, hostMounts()).join(' ')).toContain('--tmpfs /usr/share/doc');
    expect(bwrapArgs({ ...spec, hide: ['/srv/not-shown'] }, hostMounts())).not.toContain('/srv/not-shown');
  });

  it('shows read-only extras read-only', async () => {
    const tools = path.join(root, 'tools');
    await mkdir(tools);
    await writeFile(path.join(tools, 'tool.sh'), 'echo tool ran\n');

    const run = await inSandbox(`sh ${tools}/tool.sh; touch ${tools}/x 2>/dev/null || echo read-only`, { ...spec, readOnly: [tools] });

    expect(run.out).toBe('tool ran\nread-only\n');
  });
});

describe('detectSandbox', () => {
  it('finds bubblewrap here (CI installs it)', async () => {
    const found = await detectSandbox();

    expect(found).toMatchObject({ available: true, detail: expect.stringMatching(/^bubblewrap \d+\.\d+/) });
  });

  it('says bwrap is missing and how to install it or run without it', async () => {
    const found = await detectSandbox({ PATH: path.join(root, 'empty-bin') });
    const err = await requireSandbox({ PATH: path.join(root, 'empty-bin') }).catch((e: unknown) => e);

    // No setpriv on that PATH either, so no user sandbox to fall back to: refused, never unsandboxed.
    expect(found).toEqual({
      available: false,
      reason: 'bubblewrap (bwrap) is not installed, and the user sandbox needs setpriv (util-linux), which is not installed',
      hint: 'install bubblewrap (apt-get install bubblewrap)',
    });
    expect(isGastownError(err, 'gastown_config')).toBe(true);
    expect((err as Error).message).toBe(
      'cannot sandbox polecat agents: bubblewrap (bwrap) is not installed, and the user sandbox needs setpriv (util-linux), which is not installed; install bubblewrap (apt-get install bubblewrap), or pass --no-sandbox to run them unsandboxed',
    );
  });

  it('says when bwrap cannot make namespaces (Ubuntu 24.04 AppArmor) and what to change', async () => {
    // A bwrap that fails as Ubuntu's does when unprivileged user namespaces are restricted.
    const bin = path.join(root, 'restricted-bin');
    await mkdir(bin);
    await writeFile(path.join(bin, 'bwrap'), '#!/bin/sh\necho "bwrap: setting up uid map: Permission denied" >&2\nexit 1\n', {
      mode: 0o755,
    });

    const found = await detectSandbox({ PATH: bin });

    expect(found).toMatchObject({
      available: false,
      reason: `${bin}/bwrap cannot start a sandbox (bwrap: setting up uid map: Permission denied), and the user sandbox needs setpriv (util-linux), which is not installed`,
    });
    expect(found.available ? '' : found.hint).toContain('sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0');
  });

  it('falls back to the user sandbox there when this runner is root and can switch users; bwrap asked for is still refused', async () => {
    const bin = path.join(root, 'restricted-bin');
    await mkdir(bin);
    await writeFile(path.join(bin, 'bwrap'), '#!/bin/sh\necho "bwrap: setting up uid map: Permission denied" >&2\nexit 1\n', {
      mode: 0o755,
    });
    const env = { PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` };

    const found = await detectSandbox(env);
    const onlyBwrap = await requireSandbox(env, 'bwrap').catch((e: unknown) => e);

    expect(found.available && found.sandbox.name).toBe('user');
    expect(found.available && found.detail).toContain(
      `(bubblewrap is unavailable: ${bin}/bwrap cannot start a sandbox (bwrap: setting up uid map: Permission denied))`,
    );
    expect((onlyBwrap as Error).message).toContain(`cannot sandbox polecat agents: ${bin}/bwrap cannot start a sandbox`);
  });
});

describe('the none sandbox (--no-sandbox)', () => {
  it("runs the command as it is, in the workspace, with the spec's environment only", async () => {
    const run = await runInSandbox(
      createNoSandbox(),
      spec,
      ['bash', '-c', 'pwd; echo "${GITHUB_TOKEN:-no token}"; echo $GASTOWN_BEAD'],
      {},
    );

    expect(run.output).toBe(`${spec.workspace}\nno token\ngt-1\n`);
  });
});
