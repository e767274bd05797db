/**
 * The polecat agent contract (src/polecat/agents/agent.ts), as one suite every agent runs.
 * Only what every agent promises the runner, whatever it runs in:
 *
 * - `run` resolves with `{ ok, summary }` (and optionally `permanent`, `usage`), `summary`
 *   a non-empty text; a failure of the work is `ok: false`, not a rejection, and not
 *   `permanent` (a retry may fix it);
 * - the work happens in the workspace it is given (`task.worktree`): a relative path lands
 *   there, the runner's own directory and the workspace's parent are left alone;
 * - an abort (`ctx.signal`) ends the run promptly with `ok: false`, and a step past the
 *   agent's time limit is cut short; either way nothing the step started runs on;
 * - the runner's environment stays with the runner (a token in it does not reach the work).
 *
 * Each agent takes work its own way (a shell fence, a prompt, a model's tool calls): the
 * fixture turns "run this bash script" into a bead this agent acts on.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireSandbox } from '../../../src/polecat/sandbox/detect-sandbox.js';
import { runInSandbox, type Sandbox, type SandboxSpec } from '../../../src/polecat/sandbox/sandbox.js';
import { sandboxEnv } from '../../../src/polecat/sandbox/sandbox-env.js';
import type { AgentContext, AgentResult, AgentTask, PolecatAgent } from '../../../src/polecat/agents/agent.js';
import { initRepo, tempDir } from '../../helpers/temp-repo.js';

export interface AgentFixture {
  /**
   * A fresh agent (one per bead, as the runner makes them) whose steps may take `stepTimeoutMs`
   * each, built by a runner whose environment is `env`.
   */
  agent(opts: { stepTimeoutMs: number; env: Record<string, string | undefined> }): PolecatAgent;
  /** A bead asking this agent to run `script` with bash in its workspace (and to finish when it succeeded). */
  task(script: string): Pick<AgentTask, 'title' | 'body' | 'prompt'>;
  close(): Promise<void>;
}

const SECRET = 'ghs_runnerTokenThatMustNotLeak';

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function expectResultShape(result: AgentResult): void {
  expect(
    Object.keys(result).every((k) => ['ok', 'summary', 'permanent', 'usage'].includes(k)),
    JSON.stringify(result),
  ).toBe(true);
  expect(typeof result.ok).toBe('boolean');
  expect(result.summary).toMatch(/\S/);
}

/**
 * A step that hangs, with a background job that would leave a mark a second later if it
 * outlived the step. (A mark, not a pid: in a sandbox with its own pid namespace the pid a
 * step sees is not the runner's.)
 */
const LATE_MS = 1_000;
const HANG = `(sleep ${LATE_MS / 1000}; echo survived > survived.txt) &\necho started > started.txt\nsleep 30`;

/** Waits until the background job would have left its mark, then checks it did not. */
async function expectNothingLeft(worktree: string, startedAt: number): Promise<void> {
  await new Promise((r) => setTimeout(r, Math.max(0, startedAt + LATE_MS + 500 - Date.now())));
  expect(existsSync(join(worktree, 'survived.txt'))).toBe(false);
}

export function agentSuite(name: string, makeFixture: () => Promise<AgentFixture>): void {
  describe(`agent conformance: ${name}`, () => {
    let fx: AgentFixture;
    const root = tempDir('conformance-agent');
    let n = 0;
    let homes = 0;
    let made: Promise<Sandbox> | null = null;
    /** The real sandbox a runner on this machine would use (bubblewrap). */
    const sandbox = (): Promise<Sandbox> => (made ??= requireSandbox());

    beforeAll(async () => {
      fx = await makeFixture();
    });
    afterAll(async () => {
      await fx?.close();
      root.cleanup();
    });

    /** A fresh workspace (a git repository), alone in a directory of its own. */
    function workspace(): { worktree: string; parent: string } {
      const parent = join(root.path, `bead-${++n}`);
      const worktree = join(parent, 'work');
      mkdirSync(worktree, { recursive: true });
      initRepo(worktree);
      return { worktree, parent };
    }

    function run(script: string, opts: { stepTimeoutMs?: number; signal?: AbortSignal; worktree?: string } = {}) {
      const worktree = opts.worktree ?? workspace().worktree;
      // The runner's side: its environment holds a token; the sandbox is built from an
      // allow-list of none, as a runner builds it.
      const runnerEnv = { ...process.env, GASTOWN_TEST_SECRET: SECRET };
      const home = join(root.path, 'homes', `${worktree.split('/').at(-2)}-${++homes}`);
      mkdirSync(home, { recursive: true });
      const spec: SandboxSpec = {
        workspace: worktree,
        home,
        env: sandboxEnv({ source: runnerEnv, allow: [], home }),
        network: false,
        readOnly: [],
        hide: [],
      };
      const signal = opts.signal ?? new AbortController().signal;
      const ctx: AgentContext & { checkpoints: string[] } = {
        exec: async (argv, o = {}) => runInSandbox(await sandbox(), spec, argv, { ...o, signal }),
        checkpoints: [],
        async checkpoint(message) {
          ctx.checkpoints.push(message);
        },
        readInbox: async () => [],
        signal,
        log: () => {},
      };
      const agent = fx.agent({ stepTimeoutMs: opts.stepTimeoutMs ?? 60_000, env: runnerEnv });
      const task: AgentTask = {
        beadId: `gt-c${n.toString(36).padStart(3, '0')}`,
        acceptance: [],
        files: [],
        workspace: worktree,
        ...fx.task(script),
      };
      return { worktree, result: agent.run(task, ctx) };
    }

    it('does the work in the workspace it is given, and says what it did', async () => {
      const { worktree, parent } = workspace();
      const cwdBefore = readdirSync(process.cwd());

      const result = await run("printf 'hello\\n' > greeting.txt\npwd -P > where.txt", { worktree }).result;

      expectResultShape(result);
      expect(result.ok, result.summary).toBe(true);
      expect(readFileSync(join(worktree, 'greeting.txt'), 'utf8')).toBe('hello\n');
      expect(readFileSync(join(worktree, 'where.txt'), 'utf8').trim()).toBe(realpathSync(worktree));
      expect(readdirSync(parent)).toEqual(['work']);
      expect(readdirSync(process.cwd())).toEqual(cwdBefore);
    });

    it('a failing step is ok: false with a summary, not a rejection and not permanent', async () => {
      const result = await run("echo 'boom: 3 tests failed' >&2\nexit 3").result;

      expectResultShape(result);
      expect(result.ok).toBe(false);
      expect(result.permanent ?? false).toBe(false);
    });

    it('an abort ends the run promptly with ok: false, and nothing it started runs on', async () => {
      const controller = new AbortController();
      const { worktree, result } = run(HANG, { signal: controller.signal });
      await until('the step to start', () => existsSync(join(worktree, 'started.txt')));
      const startedAt = Date.now();

      controller.abort();
      const done = await result;

      expectResultShape(done);
      expect(done.ok).toBe(false);
      expect(done.summary).toMatch(/abort/i);
      expect(Date.now() - startedAt).toBeLessThan(5_000);
      await expectNothingLeft(worktree, startedAt);
    });

    it('a step past the time limit is cut short: ok: false, and nothing it started runs on', async () => {
      const startedAt = Date.now();
      const { worktree, result } = run(HANG, { stepTimeoutMs: 400 });

      const done = await result;

      expectResultShape(done);
      expect(done.ok).toBe(false);
      expect(existsSync(join(worktree, 'started.txt'))).toBe(true);
      expect(Date.now() - startedAt).toBeLessThan(15_000);
      await expectNothingLeft(worktree, startedAt);
    });

    it('the runner’s environment stays with the runner: its token does not reach the work', async () => {
      const { worktree, result } = run('printf "%s" "${GASTOWN_TEST_SECRET:-absent}" > secret.txt\nenv > env.txt');

      const done = await result;

      expect(done.ok, done.summary).toBe(true);
      expect(readFileSync(join(worktree, 'secret.txt'), 'utf8')).toBe('absent');
      expect(readFileSync(join(worktree, 'env.txt'), 'utf8')).not.toContain(SECRET);
    });
  });
}
