/**
 * A whole GitHub town for end-to-end tests: the GitHub double holding the demo's "calc"
 * project (with `.github/gastown.yml` and the polecat workflow `gt install-workflow`
 * writes, whose pinned action runs from this checkout's action.yml), and the real app
 * started as `npm start` starts it (tests without Probot's write pacing, see
 * test/support/start-unpaced-app.mjs), pointed at the double through Probot's GHE_HOST /
 * GHE_PROTOCOL, with a generated key and a webhook secret. No model: the checklist planner
 * plans and the script agent works (repository variable GASTOWN_AGENT).
 */
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { DEFAULT_ACTION_REPO, renderWorkflow } from '../../src/cli/commands/install-workflow.js';
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

/** The script agent runs on GitHub only when the repository turns it on (and then only a writer's blocks). */
export const REPO_CONFIG = ['planner: checklist', 'concurrency: 3', 'closeParentOnLand: true', 'agents:', '  script: true', ''].join('\n');

/**
 * The polecat action a workflow pins, run from this checkout's action.yml. Its install step
 * (`npm ci` and the build in the action's checkout) would rewrite this checkout's
 * node_modules, so the double stands in for it with this checkout as the tests built it.
 */
export const ACTIONS = {
  [DEFAULT_ACTION_REPO]: {
    dir: ROOT,
    standIn: {
      install:
        'test -e "$GITHUB_ACTION_PATH/dist/bundle/gt.cjs" && test -d "$GITHUB_ACTION_PATH/node_modules/probot" && echo "this checkout, built by the test"',
    },
  },
};

/** A checklist task line with fenced sh steps (one fence per step) for the script agent. */
function task(line: string, ...steps: string[][]): string {
  return [`- [ ] ${line}`, ...steps.flatMap((step) => ['```sh', ...step, '```'].map((l) => `  ${l}`))].join('\n');
}

/**
 * The issue's 6-bead, 2-wave shape: three operations at once (the first wave, as many as
 * the config's concurrency), then three beads that each build on the first wave.
 */
export const TWO_WAVE_TITLE = 'calc: min, neg and dbl, then what builds on them';
export const TWO_WAVE_BODY = [
  'Three operations that need nothing else, then three beads that each need some of them.',
  '',
  task(
    'Add the min operation',
    ['mkdir -p ops tests', `printf 'op_min() { if [ "$1" -lt "$2" ]; then echo "$1"; else echo "$2"; fi; }\\n' > ops/min.sh`],
    [`printf 'min 3 9 3\\nmin 9 3 3\\n' > tests/min.cases`, 'sh test.sh'],
  ),
  task(
    'Add the neg operation',
    ['mkdir -p ops tests', `printf 'op_neg() { echo $(( 0 - $1 )); }\\n' > ops/neg.sh`],
    [`printf 'neg 5 0 -5\\nneg -2 0 2\\n' > tests/neg.cases`, 'sh test.sh'],
  ),
  task(
    'Add the dbl operation',
    ['mkdir -p ops tests', `printf 'op_dbl() { echo $(( $1 * 2 )); }\\n' > ops/dbl.sh`],
    [`printf 'dbl 4 0 8\\n' > tests/dbl.cases`, 'sh test.sh'],
  ),
  task(
    'Add abs on top of neg (after 2)',
    [
      'test -f ops/neg.sh',
      `printf '. "$dir/ops/neg.sh"\\nop_abs() { if [ "$1" -lt 0 ]; then op_neg "$1"; else echo "$1"; fi; }\\n' > ops/abs.sh`,
    ],
    [`printf 'abs -3 0 3\\nabs 4 0 4\\n' > tests/abs.cases`, 'sh test.sh'],
  ),
  task(
    'Add quad as dbl twice (after 3)',
    ['test -f ops/dbl.sh', `printf '. "$dir/ops/dbl.sh"\\nop_quad() { op_dbl "$(op_dbl "$1")"; }\\n' > ops/quad.sh`],
    [`printf 'quad 3 0 12\\n' > tests/quad.cases`, 'sh test.sh'],
  ),
  task('List the new operations in CHANGES.md (after 1, 2, 3)', [
    'for op in min neg dbl; do test -f "ops/$op.sh"; done',
    `{ echo '# Changes'; echo; for op in min neg dbl; do echo "- added $op"; done; } > CHANGES.md`,
  ]),
].join('\n');

export interface GithubTown {
  double: GitHubDouble;
  /** The first replica (the only one unless `replicas` asked for more). */
  app: RunningApp;
  /** Every replica: each its own process and GASTOWN_DATA_DIR, all on the one double and its repository. */
  apps: RunningApp[];
  dir: string;
  /**
   * Starts replica `i` again, as a new process with the same settings and data directory
   * (after it died: the old process must be gone). Webhooks then go to the new one.
   */
  restart(i: number): Promise<RunningApp>;
  stop(): Promise<void>;
}

export async function buildForTown(): Promise<void> {
  await ensureBuiltApp();
  await ensureBuiltCli();
}

export interface TownOptions {
  config?: string;
  env?: Record<string, string>;
  /** Probot's write pacing as `npm start` has it (the demo); tests leave it out (default). */
  paced?: boolean;
  /** Extra files on `main` (over the demo project, the config and the polecat workflow). */
  files?: Record<string, string>;
  /** How many app processes (replicas) to start; every webhook goes to all of them at once (default 1). */
  replicas?: number;
  /** Options for the app's node (a bench's `--cpu-prof`). */
  nodeArgs?: string[];
  /**
   * The app and the polecat jobs reach the repository over smart HTTP (the double runs
   * `git http-backend`), as on GitHub, instead of `file://` (default), where the server
   * side of every fetch and push runs as a child of the client's own git.
   */
  gitOverHttp?: boolean;
}

export async function startGithubTown(opts: TownOptions = {}): Promise<GithubTown> {
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
      '.github/workflows/gastown-polecat.yml': renderWorkflow(),
      ...opts.files,
    },
    webhookSecret: secret,
    appId,
    appPublicKey: keys.publicKey,
    collaborators: { [MAINTAINER]: 'write', mallory: 'read' },
    variables: { GASTOWN_AGENT: 'script' },
    gtBin: join(ROOT, 'bin/gt'),
    actions: ACTIONS,
    gitOverHttp: opts.gitOverHttp,
  });
  const apps: RunningApp[] = [];
  const start = (i: number) =>
    startGastownApp(
      dir.path,
      {
        APP_ID: String(appId),
        PRIVATE_KEY: keys.privateKey,
        WEBHOOK_SECRET: secret,
        GHE_HOST: double.host,
        GHE_PROTOCOL: 'http',
        NO_SMEE_SETUP: 'true',
        GASTOWN_DATA_DIR: join(dir.path, i === 0 ? 'app-data' : `app-data-${i}`),
        GASTOWN_GIT_URL: opts.gitOverHttp ? double.httpGitUrlTemplate : double.gitUrlTemplate,
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_CONFIG_NOSYSTEM: '1',
        LOG_LEVEL: 'info',
        ...opts.env,
      },
      { paced: opts.paced ?? false, ...(opts.nodeArgs ? { nodeArgs: opts.nodeArgs } : {}) },
    );
  try {
    for (let i = 0; i < (opts.replicas ?? 1); i++) apps.push(await start(i));
  } catch (err) {
    await Promise.all(apps.map((a) => a.stop()));
    await double.stop();
    dir.cleanup();
    throw err;
  }
  double.webhookUrl = apps[0]!.webhookUrl;
  double.webhooks.alsoTo = apps.slice(1).map((a) => a.webhookUrl);
  // The action exchanges each run's OIDC token (the double's, under GHE_HOST/_services/token,
  // the app's default issuer there) at the app for a token scoped to the repository.
  double.state.variables.set('GASTOWN_APP_URL', `http://127.0.0.1:${apps[0]!.port}`);
  return {
    double,
    // The first replica now (a restart replaces it).
    get app() {
      return apps[0]!;
    },
    apps,
    dir: dir.path,
    restart: async (i) => {
      const again = await start(i);
      apps[i] = again;
      if (i === 0) {
        double.webhookUrl = again.webhookUrl;
        double.state.variables.set('GASTOWN_APP_URL', `http://127.0.0.1:${again.port}`);
      } else double.webhooks.alsoTo = apps.slice(1).map((a) => a.webhookUrl);
      return again;
    },
    stop: async () => {
      await Promise.all(apps.map((a) => a.stop()));
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

/** Open polecat pull requests whose workflow runs have all finished (a reviewer merges those). */
export function pullsReadyToMerge(double: GitHubDouble): PullRecord[] {
  const runs = [...double.state.runs.values()];
  return [...double.state.pulls.values()].filter((p) => {
    const bead = beadOfPull(p);
    const ofBead = runs.filter((r) => r.inputs.bead === bead);
    return p.state === 'open' && bead !== null && ofBead.length > 0 && ofBead.every((r) => r.status === 'completed');
  });
}

/**
 * A reviewer who merges the polecats' pull requests once no run is active (so the waves stay
 * apart), until the goal issue is closed. Returns when each bead's pull request was merged.
 */
export async function mergeUntilLanded(double: GitHubDouble, goal: number, timeoutMs = 240_000): Promise<Map<string, number>> {
  const mergedAt = new Map<string, number>();
  const parent = () => double.state.issues.get(goal)!;
  while (parent().state === 'open') {
    await double.until(
      'a pull request to merge, or the landing',
      () => parent().state === 'closed' || (double.runs.active === 0 && pullsReadyToMerge(double).length > 0),
      timeoutMs,
    );
    for (const pull of pullsReadyToMerge(double)) {
      const res = await double.mergePullRequest(MAINTAINER, pull.number);
      if (res.status !== 200) throw new Error(`merging #${pull.number} answered ${res.status}: ${JSON.stringify(res.json)}`);
      mergedAt.set(beadOfPull(pull)!, Date.now());
    }
  }
  return mergedAt;
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
