#!/usr/bin/env node
'use strict';
// The `gt` command. Runs the bundled CLI (dist/bundle/gt.cjs, built by `npm install`
// through the `prepare` script) with V8's code cache: compiling the bundle cost more than
// most commands' work, so the compiled code is kept in the user's cache directory and
// reused until the bundle or node changes. Falls back to the plain compiled tree.
// CommonJS on purpose: node's ES module loader costs ~5 ms to start, a tenth of a command.
const { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { Module } = require('node:module');
const { homedir, tmpdir } = require('node:os');
const { dirname, join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { Script } = require('node:vm');

const root = join(__dirname, '..');
// `gt sync` has a bundle of its own (src/cli/sync-entry.ts): only what a sync loads.
const syncBundle = join(root, 'dist', 'bundle', 'gt-sync.cjs');
const bundle = commandKey(process.argv.slice(2)) === 'sync' && existsSync(syncBundle) ? syncBundle : join(root, 'dist', 'bundle', 'gt.cjs');

(async () => {
  const main = existsSync(bundle) ? loadBundle(bundle) : await loadTree();
  const code = await main.run(process.argv.slice(2));
  main.saveCache();
  // Exit as soon as output is flushed rather than waiting for the git helper processes we
  // already told to stop (and any stray handle) to wind down: that wait was a third of a
  // short command's time. `gt feed --follow` and `gt runner` never get here until done.
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
})();

function loadBundle(file) {
  const source = readFileSync(file, 'utf8');
  const { size, mtimeMs } = statSync(file);
  const cacheDir = process.env.XDG_CACHE_HOME
    ? join(process.env.XDG_CACHE_HOME, 'gastown')
    : join(homedir() || tmpdir(), '.cache', 'gastown');
  const stem = `gt-${process.version}-`;
  // One cache per command: it holds the functions the first run of that command compiled
  // (V8 compiles lazily), so `gt bead update` never pays for a cache `gt ready` made.
  const cacheFile = join(cacheDir, `${stem}${size}-${Math.floor(mtimeMs)}-${commandKey(process.argv.slice(2))}.v8`);
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    /* first run with this bundle */
  }
  const script = new Script(Module.wrap(source), { filename: file, cachedData });
  const mod = { exports: {} };
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, dirname(file));
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
        // Every build of the bundle leaves a cache behind. One older than a week most likely
        // belongs to a build that is gone; if not, its next run writes it again.
        const weekAgo = Date.now() - 7 * 24 * 3600_000;
        for (const name of readdirSync(cacheDir)) {
          const old = join(cacheDir, name);
          if (name.startsWith(stem) && old !== cacheFile && statSync(old).mtimeMs < weekAgo) rmSync(old, { force: true });
        }
      } catch {
        // A cache that cannot be written only makes the next start slower.
      }
    },
  };
}

/** `bead-update` for `gt bead update gt-1 --title x`: the leading command words. */
function commandKey(argv) {
  const words = [];
  for (const a of argv) {
    if (a.startsWith('-') || !/^[a-z][a-z-]{0,23}$/.test(a) || words.length === 2) break;
    words.push(a);
  }
  return words.join('-') || 'gt';
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
