import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-repo.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const CRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');

async function cruise(cwd: string): Promise<{ code: number; out: string }> {
  try {
    const r = await run(process.execPath, [CRUISE, 'src', '--config', CONFIG, '--output-type', 'err'], { cwd });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

function write(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

describe('the arrow check (npm run check:arrows)', () => {
  it('passes on this tree', async () => {
    const r = await cruise(ROOT);
    expect(r.out).toContain('no dependency violations');
    expect(r.code).toBe(0);
  }, 60_000);

  it('fails on a cycle and on each forbidden arrow, naming the rule', async () => {
    const tmp = tempDir('arrows');
    const dir = tmp.path;
    write(dir, {
      'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }),
      'src/rig/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
      'src/rig/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
      'src/town/pure.ts': "import { x } from '../ledger/store.js';\nexport const y = x;\n",
      'src/ledger/store.ts': "import { t } from '../town/kinds.js';\nexport const x = t;\n",
      'src/town/kinds.ts': 'export const t = 1;\n',
      'src/slack/listener.ts': "import { h } from '../github/handler.js';\nexport const l = h;\n",
      'src/github/handler.ts': 'export const h = 1;\n',
      'src/forge/adapter.ts': "import { l } from '../slack/listener.js';\nexport const f = l;\n",
      'src/rig/uses-cli.ts': "import { c } from '../cli/main.js';\nexport const u = c;\n",
      'src/cli/main.ts': 'export const c = 1;\n',
      'src/rig/plans.ts': "import { m } from '../mayor/planner.js';\nexport const p = m;\n",
      'src/mayor/planner.ts': 'export const m = 1;\n',
    });
    const r = await cruise(dir).finally(() => tmp.cleanup());
    expect(r.code).not.toBe(0);
    for (const rule of [
      'no-cycle',
      'town-is-pure',
      'ledger-knows-no-domain',
      'slack-does-not-import-github',
      'adapters-do-not-import-surfaces',
      'nothing-imports-cli',
      'rig-does-not-plan',
    ])
      expect(r.out, rule).toContain(rule);
  }, 60_000);
});
