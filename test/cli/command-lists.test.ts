import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { processContext } from '../../src/cli/cli-context.js';
import { LAZY } from '../../src/cli/entry.js';
import { buildProgram } from '../../src/cli/main.js';

/**
 * The command names live in three places that cannot share code: commander's registrations,
 * the LAZY list of src/cli/entry.ts, and the sh launcher bin/gt (which drops the CA bundle
 * for commands that never call HTTPS from node). This keeps them in step.
 */
const CALLS_HTTPS = new Set(['runner', 'sling', 'demo', 'doctor', 'app-token', 'mayor']);

async function commandNames(): Promise<string[]> {
  const groups = await Promise.all(LAZY.map(([, load]) => load()));
  return buildProgram(processContext(), groups).commands.map((c) => c.name());
}

describe('the command lists', () => {
  it('bin/gt names every command that never calls HTTPS, and no command that does or does not exist', async () => {
    const launcher = readFileSync(new URL('../../bin/gt', import.meta.url), 'utf8');
    const line = /^\s+([a-z|-]+)\)\n\s+unset NODE_EXTRA_CA_CERTS/m.exec(launcher);
    expect(line, 'bin/gt has its case line').not.toBeNull();
    const fast = new Set(line![1]!.split('|'));
    const names = await commandNames();
    expect([...fast].filter((n) => !names.includes(n))).toEqual([]);
    expect(names.filter((n) => !fast.has(n) && !CALLS_HTTPS.has(n))).toEqual([]);
    expect([...CALLS_HTTPS].filter((n) => fast.has(n))).toEqual([]);
  });

  it('bin/gt drops the CA bundle for --version and --help (no HTTPS), keeps it for a command that calls HTTPS', () => {
    // node warns at start-up when the bundle it is told to load is missing: that shows whether it tried.
    const run = (args: string[]) =>
      spawnSync(fileURLToPath(new URL('../../bin/gt', import.meta.url)), args, {
        env: { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/gastown-test-ca.pem' },
        encoding: 'utf8',
      });
    for (const flag of ['--version', '--help']) {
      const r = run([flag]);
      expect(r.status, flag).toBe(0);
      expect(r.stderr, flag).not.toMatch(/extra certs/);
    }
    expect(run(['runner', '--help']).stderr).toMatch(/extra certs/);
  });

  it('every lazy group registers the commands it is loaded for', async () => {
    for (const [names, load] of LAZY) {
      const program = buildProgram(processContext(), [await load()]);
      for (const name of names) expect(program.commands.map((c) => c.name())).toContain(name);
    }
  });
});
