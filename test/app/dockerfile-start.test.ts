import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join, posix } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { privateKey } from '../github/harness.js';
import { ensureBuiltApp, ROOT } from '../helpers/built-dist.js';
import { copies, envOf, healthcheck, last, parseDockerfile, startCommand, type Stage } from '../helpers/dockerfile.js';
import { freePort } from '../helpers/free-port.js';
import { tempDir } from '../helpers/temp-repo.js';

/**
 * The image's start, without `docker build` (no base image can be pulled here): the final
 * stage's COPY lines are replayed into a temporary root (build-stage paths taken from this
 * built tree, context paths from the repository; node_modules linked, not copied), then its
 * ENTRYPOINT/CMD runs in its WORKDIR with its ENV, a temporary data directory and test
 * credentials, and must answer on /gastown/health; its HEALTHCHECK command must pass against
 * it, and fail once it is gone.
 */
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const final = stages[stages.length - 1]!;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** The image's files under `root`, as the final stage's COPY lines would lay them out. */
function replayCopies(stage: Stage, root: string): string {
  const workdir = last(stage, 'WORKDIR') ?? '/';
  const target = join(root, workdir);
  mkdirSync(target, { recursive: true });
  for (const c of copies(stage)) {
    const buildStage = c.from ? stages.find((s) => s.name === c.from) : null;
    if (c.from && !buildStage) throw new Error(`COPY --from=${c.from}: no such stage`);
    const buildDir = buildStage ? (last(buildStage, 'WORKDIR') ?? '/') : null;
    const dest = posix.resolve(workdir, c.dest);
    for (const source of c.sources) {
      // A build-stage path is where this tree has it after `npm run build`.
      const from = buildDir ? join(ROOT, posix.relative(buildDir, source)) : join(ROOT, source);
      if (!existsSync(from)) throw new Error(`COPY ${source}: ${from} does not exist in the built tree`);
      const to = c.dest.endsWith('/') ? join(root, dest, posix.basename(source)) : join(root, dest);
      if (posix.basename(source) === 'node_modules') symlinkSync(from, to);
      else cpSync(from, to, { recursive: true });
    }
  }
  return target;
}

function waitForHealth(url: string, child: ChildProcess, output: () => string): Promise<{ ok: boolean; version: string }> {
  const deadline = Date.now() + 25_000;
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (child.exitCode !== null) return reject(new Error(`the start command exited ${child.exitCode}:\n${output()}`));
      if (Date.now() > deadline) return reject(new Error(`no answer on ${url} in 25 s:\n${output()}`));
      fetch(url)
        .then(async (r) => (r.ok ? resolve((await r.json()) as { ok: boolean; version: string }) : setTimeout(poll, 200)))
        .catch(() => setTimeout(poll, 200));
    };
    poll();
  });
}

function run(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(argv[0] === 'node' ? process.execPath : argv[0]!, argv.slice(1), { cwd, env, stdio: 'ignore' });
    child.on('exit', (code) => resolve(code));
  });
}

/** Whether a .dockerignore pattern (no negations, no slashes: what ours uses) leaves `name` out of the context. */
function ignored(name: string, patterns: string[]): boolean {
  return patterns.some((p) =>
    new RegExp(
      `^${p
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replaceAll('*', '[^/]*')
        .replaceAll('?', '[^/]')}$`,
    ).test(name),
  );
}

describe('the Dockerfile', () => {
  beforeAll(ensureBuiltApp, 120_000);

  it('runs as a non-root user on Node 20 with git, and keeps GASTOWN_DATA_DIR in a volume', () => {
    const env = envOf(final);

    expect(final.from).toMatch(/^node:20[.-]/);
    expect(final.instructions.some((i) => i.op === 'RUN' && /apt-get install[^&]*\bgit\b/.test(i.args))).toBe(true);
    expect(last(final, 'USER')).toMatch(/^(?!root$|0$)\S+$/);
    expect(env.GASTOWN_DATA_DIR).toBeTruthy();
    expect(JSON.parse(last(final, 'VOLUME') ?? '[]')).toContain(env.GASTOWN_DATA_DIR);
    expect(healthcheck(final)?.join(' ')).toContain('/gastown/health');
  });

  it('sends everything it copies from the context (.dockerignore leaves none of it out, and leaves out secrets)', () => {
    const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const fromContext = stages.flatMap((s) => copies(s).filter((c) => !c.from)).flatMap((c) => c.sources);

    expect(fromContext.filter((s) => ignored(s, patterns))).toEqual([]);
    for (const secret of ['.env', 'app.private-key.pem', '.git', 'node_modules']) expect(ignored(secret, patterns), secret).toBe(true);
  });

  it('starts with its own command, working directory and environment from a built tree, and answers its health check', async () => {
    const root = tempDir('image');
    cleanups.push(root.cleanup);
    const workdir = replayCopies(final, join(root.path, 'rootfs'));
    const data = join(root.path, 'data');
    mkdirSync(data);
    chmodSync(data, 0o700);
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      ...envOf(final),
      // What a deployment sets: the volume mounted somewhere, the app's credentials.
      GASTOWN_DATA_DIR: data,
      PORT: String(port),
      APP_ID: '1',
      PRIVATE_KEY: privateKey,
      WEBHOOK_SECRET: 'image-test-secret',
    };
    const argv = startCommand(final);
    expect(argv[0]).toBe('node');
    const child = spawn(process.execPath, argv.slice(1), { cwd: workdir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    cleanups.push(() => child.kill('SIGKILL'));

    const health = await waitForHealth(`http://127.0.0.1:${port}/gastown/health`, child, () => output);
    const check = healthcheck(final)!;
    const passing = await run(check, workdir, env);
    // `docker stop` sends SIGTERM: the server stops cleanly rather than waiting for SIGKILL.
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    const stopped = await exited;
    const failing = await run(check, workdir, env);

    expect(health.ok).toBe(true);
    expect(health.version).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    expect(passing).toBe(0);
    expect(stopped).toBe(0);
    expect(failing).toBe(1);
    // Only the data directory is written (nothing yet, before any webhook): never the image's files.
    expect(readdirSync(data)).toEqual([]);
  }, 60_000);
});
