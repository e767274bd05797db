/**
 * A whole GitHub town for end-to-end tests: the GitHub double holding the demo's "calc"
 * project (with `.github/gastown.yml` and the polecat workflow `gt install-workflow`
 * writes), and the real app started as `npm start` starts it, pointed at the double through
 * Probot's GHE_HOST / GHE_PROTOCOL, with a generated key and a webhook secret. No model:
 * the checklist planner plans and the script agent works (repository variable GASTOWN_AGENT).
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ledger } from '../../src/ledger/ledger.js';
import { DEMO_GOAL, SAMPLE_PROJECT } from '../../src/demo/sample-project.js';
import type { Bead, Convoy } from '../../src/town/types.js';
import { ROOT, ensureBuiltApp, ensureBuiltCli } from '../helpers/built-dist.js';
import { tempDir } from '../helpers/temp-repo.js';
import { GitHubDouble } from '../support/github-double/github-double.js';
import type { PullRecord } from '../support/github-double/github-state.js';
import { startGastownApp, type RunningApp } from '../support/start-gastown-app.js';
import { TOWN_KINDS } from '../../src/rig/town-kinds.js';

export const OWNER = 'gastown-e2e';
export const REPO = 'calc';
export const MAINTAINER = 'ada';
/** The demo goal: its first line is the issue's title, the rest (five tasks, three waves) its body. */
export const GOAL_TITLE = DEMO_GOAL.split('\n')[0]!.replace(/^#\s*/, '');
export const GOAL_BODY = DEMO_GOAL.split('\n').slice(1).join('\n').trim();

export const REPO_CONFIG = ['planner: checklist', 'concurrency: 3', 'closeParentOnLand: true', ''].join('\n');

export interface GithubTown {
  double: GitHubDouble;
  app: RunningApp;
  dir: string;
  stop(): Promise<void>;
}

export async function buildForTown(): Promise<void> {
  await ensureBuiltApp();
  await ensureBuiltCli();
}

export async function startGithubTown(opts: { config?: string; env?: Record<string, string> } = {}): Promise<GithubTown> {
  const dir = tempDir('gastown-github-town');
  const keys = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const secret = 'e2e-webhook-secret';
  const appId = 1234;
  const double = await GitHubDouble.start({
    owner: OWNER,
    repo: REPO,
    dir: dir.path,
    files: {
      ...SAMPLE_PROJECT,
      '.github/gastown.yml': opts.config ?? REPO_CONFIG,
      '.github/workflows/gastown-polecat.yml': readFileSync(join(ROOT, 'templates/gastown-polecat.yml'), 'utf8'),
    },
    webhookSecret: secret,
    appId,
    appPublicKey: keys.publicKey,
    collaborators: { [MAINTAINER]: 'write', mallory: 'read' },
    variables: { GASTOWN_AGENT: 'script' },
    gtBin: join(ROOT, 'bin/gt'),
  });
  let app: RunningApp;
  try {
    app = await startGastownApp(dir.path, {
      APP_ID: String(appId),
      PRIVATE_KEY: keys.privateKey,
      WEBHOOK_SECRET: secret,
      GHE_HOST: double.host,
      GHE_PROTOCOL: 'http',
      NO_SMEE_SETUP: 'true',
      GASTOWN_DATA_DIR: join(dir.path, 'app-data'),
      GASTOWN_GIT_URL: double.gitUrlTemplate,
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_CONFIG_NOSYSTEM: '1',
      LOG_LEVEL: 'info',
      ...opts.env,
    });
  } catch (err) {
    await double.stop();
    dir.cleanup();
    throw err;
  }
  double.webhookUrl = app.webhookUrl;
  return {
    double,
    app,
    dir: dir.path,
    stop: async () => {
      await app.stop();
      await double.runs.settled();
      await double.stop();
      dir.cleanup();
    },
  };
}

/** The bead a polecat pull request is for (its head branch `polecat/<name>/<bead>`). */
export function beadOfPull(pull: PullRecord): string | null {
  return /^polecat\/[^/]+\/(gt-[0-9a-z]+)$/.exec(pull.head)?.[1] ?? null;
}

/** Open polecat pull requests whose workflow run has finished (a reviewer merges those). */
export function pullsReadyToMerge(double: GitHubDouble): PullRecord[] {
  const runs = [...double.state.runs.values()];
  return [...double.state.pulls.values()].filter((p) => {
    const bead = beadOfPull(p);
    return p.state === 'open' && bead !== null && runs.some((r) => r.inputs.bead === bead && r.status === 'completed');
  });
}

/** The ledger as the repository holds it (refs/gastown/* of the bare repo), read by a Ledger of its own. */
export async function remoteLedger(double: GitHubDouble): Promise<{ convoys: Convoy[]; beads: Bead[] }> {
  const ledger = await Ledger.open({ kinds: TOWN_KINDS, repoDir: double.repo.path });
  try {
    return {
      convoys: (await ledger.list<Convoy>('convoys')).map((c) => c.value),
      beads: (await ledger.list<Bead>('beads')).map((b) => b.value),
    };
  } finally {
    ledger.close();
  }
}
