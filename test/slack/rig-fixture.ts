import { recordPlan, type RecordedConvoy } from '../../src/rig/record-plan.js';
import { Rig } from '../../src/rig/rig.js';
import { createLocalRigProvider, type RigProvider } from '../../src/rig/rig-provider.js';
import type { Plan } from '../../src/town/types.js';
import { initRepo, tempDir } from '../helpers/temp-repo.js';

/** A real rig in a temporary git repository, served by the local provider as `acme/web`. */
export interface TempRig {
  dir: string;
  provider: RigProvider;
  /** Another provider over the same directory: what a restarted process opens. */
  reopen(): RigProvider;
  rig<T>(fn: (rig: Rig) => Promise<T>): Promise<T>;
  cleanup(): Promise<void>;
}

export const REPO = 'acme/web';

// The product's own git processes inherit this: no developer config, no ambient identity.
process.env.GIT_CONFIG_GLOBAL = '/dev/null';
process.env.GIT_CONFIG_NOSYSTEM = '1';
for (const key of ['GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL', 'EMAIL']) delete process.env[key];

export async function tempRig(opts: { writers?: string[] } = {}): Promise<TempRig> {
  const tmp = tempDir('gastown-slack');
  initRepo(tmp.path);
  Rig.init(tmp.path);
  const providers: RigProvider[] = [];
  const make = () => {
    const p = createLocalRigProvider({ repoDir: tmp.path, repo: REPO, ...(opts.writers ? { writers: opts.writers } : {}) });
    providers.push(p);
    return p;
  };
  const provider = make();
  return {
    dir: tmp.path,
    provider,
    reopen: make,
    rig: (fn) => provider.withRig(null, fn),
    async cleanup() {
      for (const p of providers) await p.close();
      tmp.cleanup();
    },
  };
}

export function plan(prefix: string, n = 2, chained = false): Plan {
  return {
    summary: `${prefix} plan`,
    beads: Array.from({ length: n }, (_, i) => ({
      key: `${prefix}-${i}`,
      title: `${prefix} step ${i}`,
      description: `Do ${prefix} step ${i}`,
      acceptance: [],
      files: [],
      blockedBy: chained && i > 0 ? [`${prefix}-${i - 1}`] : [],
    })),
  };
}

export function recordConvoy(
  rig: Rig,
  title: string,
  opts: { requireApproval?: boolean; beads?: number; chained?: boolean } = {},
): Promise<RecordedConvoy> {
  return recordPlan(rig.withActor('mayor'), {
    sourceKey: `local:${title}`,
    title,
    source: { kind: 'local', goal: title },
    plan: plan(title.toLowerCase().replace(/\W+/g, '-'), opts.beads ?? 2, opts.chained ?? false),
    planner: 'checklist',
    usage: null,
    requireApproval: opts.requireApproval ?? false,
  });
}
