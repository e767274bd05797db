import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBead } from '../../src/rig/beads.js';
import { createConvoy } from '../../src/rig/convoys.js';
import { Rig } from '../../src/rig/rig.js';
import type { RigSettings } from '../../src/rig/rig-settings.js';
import type { Bead } from '../../src/town/types.js';
import { git, tempDir } from '../helpers/temp-repo.js';

// The product's own git processes inherit this: no developer config, no ambient identity.
process.env.GIT_CONFIG_GLOBAL = '/dev/null';
process.env.GIT_CONFIG_NOSYSTEM = '1';
for (const key of ['GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL', 'EMAIL']) delete process.env[key];

export interface Town {
  root: string;
  remote: string;
  clone: string;
  rig: Rig;
  cleanup(): void;
}

const SEED = ['-c', 'user.name=Seeder', '-c', 'user.email=seeder@test.local'];

/** A bare remote, a clone with a seed commit on main, made a rig with these settings. */
export async function makeTown(
  settings: Partial<RigSettings> = {},
  files: Record<string, string> = { 'README.md': '# town\n' },
): Promise<Town> {
  const dir = tempDir('gastown-runner');
  const remote = join(dir.path, 'remote.git');
  const clone = join(dir.path, 'rig');
  git(dir.path, ['init', '-q', '--bare', '-b', 'main', remote]);
  git(dir.path, ['clone', '-q', remote, clone]);
  git(clone, ['checkout', '-q', '-b', 'main']);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(clone, name), text);
  git(clone, ['add', '-A']);
  git(clone, [...SEED, 'commit', '-q', '-m', 'seed']);
  git(clone, ['push', '-q', 'origin', 'main']);
  Rig.init(clone, { heartbeatMs: 200, leaseMs: 5_000, ...settings });
  const rig = await Rig.open({ repoDir: clone, actor: 'tester' });
  return {
    root: dir.path,
    remote,
    clone,
    rig,
    cleanup() {
      rig.close();
      dir.cleanup();
    },
  };
}

/** A bead whose script-agent steps are the given shell blocks. */
export function scriptBead(rig: Rig, title: string, steps: string[], extra: { blockedBy?: string[] } = {}): Promise<Bead> {
  const body = steps.map((s) => `\`\`\`sh\n${s}\n\`\`\``).join('\n\n');
  return createBead(rig, { title, body, ...extra });
}

export async function convoyOf(rig: Rig, title: string, beads: Bead[]): Promise<string> {
  return (
    await createConvoy(
      rig,
      title,
      beads.map((b) => b.id),
    )
  ).id;
}

export function remoteLog(remote: string, ref = 'main'): string[] {
  return git(remote, ['log', '--format=%s', ref]).split('\n');
}
