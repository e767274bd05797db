/**
 * GitHub Actions on the double, for `workflow_dispatch`: the workflow file is read from the
 * repository at the dispatched ref (so the run does what the repository's workflow says),
 * its job runs in a fresh temp dir as a hosted runner would run it: `actions/checkout` is a
 * clone of the bare repository, `actions/setup-node` is the Node running the tests, every
 * `run:` step runs in `bash -e` with the job's env and GitHub's default variables
 * (GITHUB_API_URL, GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID, ...; with
 * `permissions: id-token: write` also ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN), `npx gt`
 * being this checkout's `bin/gt`. A step that `uses:` an action of `actions` (`owner/repo`,
 * any ref) runs that composite action's own steps from its `action.yml`, with its inputs
 * (`with:` over the declared defaults) and GITHUB_ACTION_PATH; a step of it named in the
 * action's `standIn` runs the stand-in script instead. The run's title follows `run-name`;
 * runs start at once and in parallel (one at a time per `concurrency` group), and
 * `workflow_run` webhooks report them (requested, in_progress, completed).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { BareRepo } from './bare-repo.js';
import type { Actor, GitHubState, RunRecord } from './github-state.js';
import type { WebhookSender } from './webhook-sender.js';

export interface WorkflowRunsOptions {
  state: GitHubState;
  repo: BareRepo;
  webhooks: WebhookSender;
  apiUrl: string;
  webUrl: string;
  /** The `gt` that `npx gt` in a workflow means here (this checkout's bin/gt). */
  gtBin: string;
  /** What `actions/checkout` clones (the bare repository's `file://` URL, or its smart-HTTP one). */
  cloneUrl: string;
  /** Where runs get their workspaces. */
  workDir: string;
  /** A `GITHUB_TOKEN` for the run, valid until it ends. */
  issueRunToken(run: RunRecord): { token: string; revoke(): void };
  /** With `permissions: id-token: write`: where the run asks for its OIDC token, and its request token. */
  oidcRequestUrl?: string;
  issueOidcRequest?(run: RunRecord): { token: string; revoke(): void };
  /** `secrets.*` of the repository (GITHUB_TOKEN is the run's own). */
  secrets?: Record<string, string>;
  /** Longest a step may take before the run is cancelled (the workflow's own timeout is longer). */
  stepTimeoutMs?: number;
  /** Composite actions by `owner/repo` (any ref): their checkout, and stand-ins for steps by id. */
  actions?: Record<string, LocalAction>;
}

export interface LocalAction {
  dir: string;
  /** Step id → the script the double runs instead (e.g. for an install step that would rewrite this checkout). */
  standIn?: Record<string, string>;
}

interface ActionFile {
  inputs?: Record<string, { default?: string; required?: boolean }>;
  runs?: { using?: string; steps?: Step[] };
}

interface Workflow {
  name?: string;
  'run-name'?: string;
  on?: Record<string, { inputs?: Record<string, { required?: boolean; default?: string }> } | null>;
  concurrency?: { group?: string } | string;
  permissions?: Record<string, string> | string;
  jobs?: Record<string, { env?: Record<string, string>; steps?: Step[] }>;
}

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  shell?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}

export type DispatchAnswer = { status: 204 } | { status: 404 | 422; message: string };

export class WorkflowRuns {
  readonly #o: WorkflowRunsOptions;
  readonly #running = new Set<Promise<void>>();
  readonly #groups = new Map<string, Promise<void>>();
  /** Runs a person or the app asked to cancel, with the kill for the step running now. */
  readonly #cancelled = new Set<number>();
  readonly #killStep = new Map<number, () => void>();
  #nextRun = 1;

  constructor(options: WorkflowRunsOptions) {
    this.#o = options;
  }

  get active(): number {
    return this.#running.size;
  }

  async settled(): Promise<void> {
    while (this.#running.size) await Promise.allSettled([...this.#running]);
  }

  /**
   * `POST /actions/runs/:id/cancel`: as GitHub does, 202 and the run stops: the step running
   * now is killed, later steps are skipped except `if: always()` ones, and the run completes
   * as `cancelled`. A completed run answers 409.
   */
  cancel(runId: number): { status: number; message?: string } {
    const run = this.#o.state.runs.get(runId);
    if (!run) return { status: 404, message: 'Not Found' };
    if (run.status === 'completed') return { status: 409, message: 'Cannot cancel a workflow run that is completed.' };
    this.#cancelled.add(runId);
    this.#killStep.get(runId)?.();
    return { status: 202 };
  }

  /** `POST /repos/:o/:r/actions/workflows/:file/dispatches`: 204 and the run starts, or GitHub's refusal. */
  async dispatch(file: string, ref: string, inputs: Record<string, unknown>, actor: Actor): Promise<DispatchAnswer> {
    const path = `.github/workflows/${file}`;
    const text = await this.#o.repo.readFile(path, ref);
    if (text === null) return { status: 404, message: 'Not Found' };
    const workflow = parse(text) as Workflow;
    const on = workflow.on ?? {};
    if (!('workflow_dispatch' in on)) return { status: 422, message: "Workflow does not have 'workflow_dispatch' trigger" };
    const declared = on.workflow_dispatch?.inputs ?? {};
    const given: Record<string, string> = {};
    for (const [name, value] of Object.entries(inputs)) {
      if (!(name in declared)) return { status: 422, message: `Unexpected inputs provided: ["${name}"]` };
      given[name] = String(value);
    }
    for (const [name, spec] of Object.entries(declared)) {
      if (given[name] === undefined && spec.default !== undefined) given[name] = String(spec.default);
      if (spec.required && !given[name]) return { status: 422, message: `Required input '${name}' not provided` };
    }
    const headSha = (await this.#o.repo.sha(`refs/heads/${ref}`)) ?? '';
    const at = this.#o.state.stamp();
    const ctx = { inputs: given, secrets: {}, vars: Object.fromEntries(this.#o.state.variables), github: {} };
    const run: RunRecord = {
      id: 9_000_000_000 + this.#nextRun,
      runNumber: this.#nextRun++,
      workflowId: 161335,
      name: workflow.name ?? path,
      displayTitle: workflow['run-name'] ? interpolate(workflow['run-name'], ctx) : (workflow.name ?? path),
      path,
      status: 'queued',
      conclusion: null,
      headBranch: ref,
      headSha,
      inputs: given,
      actor,
      createdAt: at,
      updatedAt: at,
      startedMs: null,
      endedMs: null,
      steps: [],
    };
    this.#o.state.runs.set(run.id, run);
    this.#o.webhooks.send(
      'workflow_run',
      'requested',
      { workflow_run: this.#o.state.renderRun(run), workflow: { id: run.workflowId, name: run.name, path } },
      actor,
    );
    const group = typeof workflow.concurrency === 'string' ? workflow.concurrency : workflow.concurrency?.group;
    const key = group ? interpolate(group, ctx) : `run-${run.id}`;
    const previous = this.#groups.get(key) ?? Promise.resolve();
    const p = previous.then(() => this.#run(run, workflow)).catch(() => undefined);
    this.#groups.set(key, p);
    const tracked = p.finally(() => {
      this.#running.delete(tracked);
      if (this.#groups.get(key) === p) this.#groups.delete(key);
    });
    this.#running.add(tracked);
    return { status: 204 };
  }

  /** A step's shell; a cancel of its run kills it, except in the `if: always()` steps that run after a cancel. */
  #sh(runId: number, script: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs?: number): Promise<{ code: number; output: string }> {
    if (this.#cancelled.has(runId)) return sh(script, cwd, env, timeoutMs);
    return sh(script, cwd, env, timeoutMs, (kill) => this.#killStep.set(runId, kill)).finally(() => this.#killStep.delete(runId));
  }

  async #run(run: RunRecord, workflow: Workflow): Promise<void> {
    const { state, webhooks } = this.#o;
    const [, job] = Object.entries(workflow.jobs ?? {})[0] ?? [];
    const token = this.#o.issueRunToken(run);
    const perms = workflow.permissions;
    const idToken =
      (typeof perms === 'string' ? perms === 'write-all' : perms?.['id-token'] === 'write') && this.#o.issueOidcRequest
        ? this.#o.issueOidcRequest(run)
        : null;
    run.status = 'in_progress';
    run.startedMs = Date.now();
    run.updatedAt = state.stamp();
    const wf = { id: run.workflowId, name: run.name, path: run.path };
    webhooks.send('workflow_run', 'in_progress', { workflow_run: state.renderRun(run), workflow: wf }, run.actor);
    const root = mkdtempSync(join(this.#o.workDir, `run-${run.id}-`));
    const workspace = join(root, 'work');
    const home = join(this.#o.workDir, 'home');
    mkdirSync(home, { recursive: true });
    const ctx = {
      inputs: run.inputs,
      secrets: { ...(this.#o.secrets ?? {}), GITHUB_TOKEN: token.token },
      vars: Object.fromEntries(state.variables),
      github: { run_id: String(run.id), repository: `${state.owner}/${state.repo}`, token: token.token },
    };
    const base: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: home,
      LANG: 'C.UTF-8',
      TMPDIR: root,
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_API_URL: this.#o.apiUrl,
      GITHUB_GRAPHQL_URL: this.#o.apiUrl.replace(/\/v3$/, '/graphql'),
      GITHUB_SERVER_URL: this.#o.webUrl,
      GITHUB_REPOSITORY: `${state.owner}/${state.repo}`,
      GITHUB_REPOSITORY_OWNER: state.owner,
      GITHUB_RUN_ID: String(run.id),
      GITHUB_RUN_NUMBER: String(run.runNumber),
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_WORKFLOW: run.name,
      GITHUB_EVENT_NAME: 'workflow_dispatch',
      GITHUB_REF: `refs/heads/${run.headBranch}`,
      GITHUB_REF_NAME: run.headBranch,
      GITHUB_SHA: run.headSha,
      GITHUB_ACTOR: run.actor.login,
      GITHUB_WORKSPACE: workspace,
      RUNNER_TEMP: root,
      // A hosted runner has no git identity and no global config of this machine's.
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_CONFIG_NOSYSTEM: '1',
      ...(idToken ? { ACTIONS_ID_TOKEN_REQUEST_URL: this.#o.oidcRequestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: idToken.token } : {}),
    };
    const jobEnv = Object.fromEntries(Object.entries(job?.env ?? {}).map(([k, v]) => [k, interpolate(String(v), ctx)]));
    let failed = !job;
    const runSteps = async (
      steps: Step[],
      stepCtx: Record<string, Record<string, string>>,
      stepBase: NodeJS.ProcessEnv,
      action: LocalAction | null,
      prefix: string,
    ): Promise<void> => {
      for (const [i, step] of steps.entries()) {
        const condition = step.if?.replace(/^\$\{\{\s*|\s*\}\}$/g, '').trim();
        if (this.#cancelled.has(run.id)) failed = true;
        if (failed && condition !== 'always()') continue;
        const name = `${prefix}${step.name ?? step.uses ?? `step ${i + 1}`}`;
        const env = {
          ...stepBase,
          ...Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, interpolate(String(v), stepCtx)])),
        };
        const local = step.uses ? this.#o.actions?.[step.uses.split('@')[0]!] : undefined;
        let result: { code: number; output: string };
        if (step.uses?.startsWith('actions/checkout@')) {
          result = await this.#sh(
            run.id,
            // The run's token for this one command, as actions/checkout with `persist-credentials: false`.
            `git -c http.extraheader="$CHECKOUT_AUTH" clone --quiet "$REPO_URL" "$GITHUB_WORKSPACE" && git -C "$GITHUB_WORKSPACE" checkout --quiet -B "$GITHUB_REF_NAME" "$GITHUB_SHA"`,
            root,
            {
              ...env,
              REPO_URL: this.#o.cloneUrl,
              CHECKOUT_AUTH: `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${token.token}`).toString('base64')}`,
            },
            this.#o.stepTimeoutMs,
          );
        } else if (step.uses?.startsWith('actions/setup-node@')) {
          result = { code: 0, output: `node ${process.version}` };
        } else if (local && step.uses?.includes('@')) {
          // A composite action: its own steps, with its inputs, then back to the job's.
          const file = parse(readFileSync(join(local.dir, 'action.yml'), 'utf8')) as ActionFile;
          if (file.runs?.using !== 'composite') result = { code: 1, output: `the double runs only composite actions (${step.uses})` };
          else {
            const inputs: Record<string, string> = {};
            for (const [key, spec] of Object.entries(file.inputs ?? {})) inputs[key] = interpolate(String(spec.default ?? ''), stepCtx);
            for (const [key, value] of Object.entries(step.with ?? {})) inputs[key] = interpolate(String(value), stepCtx);
            run.steps.push({ name, code: 0, output: `[double] action ${step.uses} from ${local.dir}` });
            await runSteps(
              file.runs.steps ?? [],
              { ...stepCtx, inputs },
              { ...stepBase, GITHUB_ACTION_PATH: local.dir },
              local,
              `${name} › `,
            );
            continue;
          }
        } else if (step.id && action?.standIn?.[step.id] !== undefined) {
          result = await this.#sh(run.id, action.standIn[step.id]!, workspace, env, this.#o.stepTimeoutMs);
          result.output = `[double] stands in for step ${step.id}\n${result.output}`;
        } else if (step.run !== undefined) {
          const script = interpolate(step.run, stepCtx).replace(/\bnpx gt\b/g, `'${this.#o.gtBin}'`);
          result = await this.#sh(run.id, script, workspace, env, this.#o.stepTimeoutMs);
        } else {
          result = { code: 1, output: `the double cannot run ${step.uses}` };
        }
        run.steps.push({ name, ...result });
        if (result.code !== 0) failed = true;
      }
    };
    try {
      await runSteps(job?.steps ?? [], ctx, { ...base, ...jobEnv }, null, '');
    } finally {
      token.revoke();
      idToken?.revoke();
      run.endedMs = Date.now();
      run.status = 'completed';
      run.conclusion = this.#cancelled.has(run.id) ? 'cancelled' : failed ? 'failure' : 'success';
      run.updatedAt = state.stamp();
      webhooks.send('workflow_run', 'completed', { workflow_run: state.renderRun(run), workflow: wf }, run.actor);
    }
  }
}

/** `${{ expr }}` with the few expressions workflows here use: contexts, 'literals' and `||`. */
export function interpolate(text: string, ctx: Record<string, Record<string, string>>): string {
  return text.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_m, expr: string) => {
    for (const part of expr.split('||').map((s) => s.trim())) {
      const literal = /^'(.*)'$/.exec(part);
      const ref = /^([a-z_]+)\.([A-Za-z_][A-Za-z0-9_-]*)$/.exec(part);
      if (!literal && !ref) throw new Error(`the double cannot evaluate \${{ ${expr} }}`);
      const value = literal ? literal[1]! : (ctx[ref![1]!]?.[ref![2]!] ?? '');
      if (value) return value;
    }
    return '';
  });
}

function sh(
  script: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = 180_000,
  onKill?: (kill: () => void) => void,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    mkdirSync(cwd, { recursive: true });
    const child = spawn('bash', ['--noprofile', '--norc', '-e', '-c', script], {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    onKill?.(() => {
      output += '\n[double] the run was cancelled';
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    });
    const timer = setTimeout(() => {
      output += `\n[double] step timed out after ${timeoutMs} ms`;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, output });
    });
  });
}
