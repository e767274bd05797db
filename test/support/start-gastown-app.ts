/**
 * The app as `npm start` runs it: `node bin/start.js` (the compiled app under Probot's own
 * server) in an empty directory, with the settings given, on a free port. Its log is kept
 * for a failing test to print.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers/built-dist.js';
import { freePort } from '../helpers/free-port.js';

export { freePort };

export interface RunningApp {
  port: number;
  /** The app's process id (a bench reads its CPU time). */
  pid: number;
  /** Where GitHub sends webhooks (Probot's default WEBHOOK_PATH). */
  webhookUrl: string;
  log(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /**
   * Probot's write pacing (1 s between writes, 3 s between creations) as `npm start` has it
   * (true), or taken out (false: test/support/start-unpaced-app.mjs, otherwise the same start).
   */
  paced?: boolean;
  /** Options for node before the script (a bench's `--cpu-prof`). */
  nodeArgs?: string[];
}

export async function startGastownApp(cwd: string, env: Record<string, string>, options: StartOptions = {}): Promise<RunningApp> {
  const port = await freePort();
  const script = options.paced === false ? join(ROOT, 'test/support/start-unpaced-app.mjs') : join(ROOT, 'bin/start.js');
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeArgs ?? []), script], {
    cwd,
    env: { PATH: process.env.PATH, HOME: cwd, HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const end = Date.now() + 30_000;
  for (;;) {
    const up = await fetch(`http://127.0.0.1:${port}/gastown/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (child.exitCode !== null || Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`the app did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    pid: child.pid!,
    webhookUrl: `http://127.0.0.1:${port}/api/github/webhooks`,
    log: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
