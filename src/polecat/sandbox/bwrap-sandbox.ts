import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type { Sandbox, SandboxCommand, SandboxSpec } from './sandbox.js';

/** System directories shown read-only (software, not data). Missing ones are skipped. */
const SYSTEM_DIRS = ['/usr', '/opt', '/nix'];
/** Top-level entries that are often symlinks into /usr (merged /usr) or directories. */
const SYSTEM_LINKS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/**
 * The /etc entries shown, by name (an allow-list: /etc also holds npm tokens, kubeconfigs,
 * host keys, shadow files). What a toolchain needs beyond these goes in the rig setting
 * `sandbox.readOnly`.
 */
const ETC_ALLOWED = [
  'alternatives',
  'bash.bashrc',
  'ca-certificates',
  'ca-certificates.conf',
  'debian_version',
  'environment.d',
  'fonts',
  'gai.conf',
  'group',
  'host.conf',
  'hostname',
  'hosts',
  'inputrc',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'locale.alias',
  'locale.conf',
  'localtime',
  'lsb-release',
  'magic',
  'magic.mime',
  'mime.types',
  'nsswitch.conf',
  'os-release',
  'passwd',
  'perl',
  'profile',
  'profile.d',
  'protocols',
  'resolv.conf',
  'services',
  'shells',
  'ssl',
  'terminfo',
  'timezone',
  'xdg',
];
/** Allowed by prefix: per-version configuration of runtimes (java-17-openjdk, python3.11). */
const ETC_ALLOWED_PREFIXES = ['java-', 'python3'];
/** Inside what is shown, still hidden: private TLS keys, and npm's global config (it can hold tokens). */
const MASKED = ['/etc/ssl/private', '/usr/etc/npmrc', '/usr/local/etc/npmrc'];

interface Mount {
  kind: 'ro-bind' | 'symlink' | 'tmpfs' | 'mask-file';
  src: string;
  dest: string;
}

/** What of the host's root the sandbox shows; read once, since it does not change under a runner. */
export function hostMounts(): Mount[] {
  const mounts: Mount[] = [];
  for (const dir of SYSTEM_DIRS) if (isDir(dir)) mounts.push({ kind: 'ro-bind', src: dir, dest: dir });
  for (const entry of SYSTEM_LINKS) {
    const st = lstatOrNull(entry);
    if (st?.isSymbolicLink()) mounts.push({ kind: 'symlink', src: readlinkSync(entry), dest: entry });
    else if (st?.isDirectory()) mounts.push({ kind: 'ro-bind', src: entry, dest: entry });
  }
  let etc: string[] = [];
  try {
    etc = readdirSync('/etc');
  } catch {
    // no /etc to show
  }
  for (const name of etc.sort()) {
    if (!ETC_ALLOWED.includes(name) && !ETC_ALLOWED_PREFIXES.some((p) => name.startsWith(p))) continue;
    // A symlink is shown as its target's content (resolv.conf often points into /run, which is not shown).
    const real = realOrNull(`/etc/${name}`);
    if (real) mounts.push({ kind: 'ro-bind', src: real, dest: `/etc/${name}` });
  }
  for (const masked of MASKED) {
    const st = lstatOrNull(masked);
    if (!st || !isShown(masked, mounts)) continue;
    mounts.push(st.isDirectory() ? { kind: 'tmpfs', src: '', dest: masked } : { kind: 'mask-file', src: '/dev/null', dest: masked });
  }
  return mounts;
}

/**
 * bubblewrap: the agent's command runs in new user, mount, pid, network (unless allowed),
 * ipc, uts and cgroup namespaces with every capability dropped and no way to make user
 * namespaces of its own. It sees:
 * - the system directories read-only (/usr, /opt, /nix, merged-/usr links, allowed /etc entries);
 * - a fresh /proc of its own pid namespace (the runner's /proc/<pid>/environ does not exist
 *   there), a minimal /dev, an empty private /tmp;
 * - its workspace and its private HOME read-write, `spec.readOnly` paths read-only;
 * - nothing else: not the rig, not the remote, not the runner's HOME (hidden with an empty
 *   tmpfs even where they lie under a system directory).
 * The environment is exactly `spec.env` (bwrap is started with it and passes it on). When the
 * runner dies the sandbox dies with it (--die-with-parent); a new session keeps it off the
 * runner's terminal.
 */
export function createBwrapSandbox(bwrap: string, mounts: Mount[] = hostMounts()): Sandbox {
  return {
    name: 'bwrap',
    isFallback: false,
    runsInRigWorktrees: true,
    runnerToolsSafe: true,
    describe: `bubblewrap (${bwrap})`,
    command(argv: string[], spec: SandboxSpec): SandboxCommand {
      return { file: bwrap, args: [...bwrapArgs(spec, mounts), '--', ...argv], cwd: spec.workspace, env: spec.env };
    },
  };
}

export function bwrapArgs(spec: SandboxSpec, mounts: Mount[]): string[] {
  const args = ['--die-with-parent', '--new-session', '--unshare-all', '--unshare-user', '--disable-userns', '--cap-drop', 'ALL'];
  if (spec.network) args.push('--share-net');
  for (const m of mounts) args.push(...mountArgs(m));
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  for (const hidden of spec.hide) {
    const abs = path.resolve(hidden);
    const st = lstatOrNull(abs);
    if (!st || !isShown(abs, mounts)) continue;
    args.push(...mountArgs(st.isDirectory() ? { kind: 'tmpfs', src: '', dest: abs } : { kind: 'mask-file', src: '/dev/null', dest: abs }));
  }
  for (const ro of spec.readOnly) args.push('--ro-bind-try', path.resolve(ro), path.resolve(ro));
  args.push('--bind', spec.home, spec.home, '--bind', spec.workspace, spec.workspace);
  // The root bwrap builds (a tmpfs holding the mount points) read-only too: nothing to write but the binds and /tmp.
  args.push('--remount-ro', '/', '--chdir', spec.workspace);
  return args;
}

function mountArgs(m: Mount): string[] {
  switch (m.kind) {
    case 'ro-bind':
      return ['--ro-bind', m.src, m.dest];
    case 'symlink':
      return ['--symlink', m.src, m.dest];
    case 'tmpfs':
      return ['--tmpfs', m.dest];
    case 'mask-file':
      return ['--ro-bind', '/dev/null', m.dest];
  }
}

/** Whether `p` lies inside a directory the mounts show (so it would be visible without a mask). */
function isShown(p: string, mounts: Mount[]): boolean {
  return mounts.some((m) => m.kind === 'ro-bind' && (p === m.dest || p.startsWith(`${m.dest}/`)));
}

function lstatOrNull(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

function isDir(p: string): boolean {
  const st = lstatOrNull(p);
  return !!st && st.isDirectory();
}

function realOrNull(p: string): string | null {
  try {
    return existsSync(p) ? realpathSync(p) : null;
  } catch {
    return null;
  }
}
