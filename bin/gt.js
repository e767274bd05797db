#!/usr/bin/env node
// The `gt` command. Runs the bundled CLI (dist/bundle/gt.cjs, built by `npm install`
// through the `prepare` script) with V8's code cache: compiling the bundle cost more than
// most commands' work, so the compiled code is kept in the user's cache directory and
// reused until the bundle or node changes. Falls back to the plain compiled tree.
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script } from 'node:vm';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'dist', 'bundle', 'gt.cjs');

const main = existsSync(bundle) ? loadBundle(bundle) : await loadTree();
const code = await main.run(process.argv.slice(2));
main.saveCache();
// Exit as soon as output is flushed rather than waiting for the git helper processes we
// already told to stop (and any stray handle) to wind down: that wait was a third of a
// short command's time. `gt feed --follow` and `gt runner` never get here until done.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));

function loadBundle(file) {
  const source = readFileSync(file, 'utf8');
  const { size, mtimeMs } = statSync(file);
  const cacheDir = process.env.XDG_CACHE_HOME ? join(process.env.XDG_CACHE_HOME, 'gastown') : join(homedir() || tmpdir(), '.cache', 'gastown');
  const cacheFile = join(cacheDir, `gt-${process.version}-${size}-${Math.floor(mtimeMs)}.v8`);
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    /* first run with this bundle */
  }
  const script = new Script(Module.wrap(source), { filename: file, cachedData });
  const mod = { exports: {} };
  script.runInThisContext().call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
  return {
    run: (argv) => mod.exports.main(argv),
    saveCache() {
      if (cachedData && !script.cachedDataRejected) return;
      try {
        // After the run, so the functions the command compiled are in the cache too.
        mkdirSync(cacheDir, { recursive: true });
        const tmp = `${cacheFile}.${process.pid}.tmp`;
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile);
      } catch {
        // A cache that cannot be written only makes the next start slower.
      }
    },
  };
}

async function loadTree() {
  const entry = join(root, 'dist', 'cli', 'entry.js');
  if (!existsSync(entry)) {
    process.stderr.write(`gt: ${entry} is missing: run \`npm install\` (or \`npm run build\`) in ${root}\n`);
    process.exit(1);
  }
  const { main } = await import(pathToFileURL(entry).href);
  return { run: main, saveCache() {} };
}
