// Bundles the CLI into CommonJS files: dist/bundle/gt.cjs, which bin/gt.cjs loads through
// V8's code cache, dist/bundle/gt-sync.cjs for `gt sync` alone, and dist/bundle/gt-lazy.cjs
// for the commands that need more. A `gt`
// process used to spend more time resolving, reading and compiling ~200 small ES modules
// (ours, zod's, commander's) than doing its work (see bench:ledger).
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist/bundle', { recursive: true, force: true });

const shared = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  minify: true,
  logLevel: 'warning',
  alias: { 'zod/mini': './scripts/zod-mini-slim.mjs' },
  // Code that finds package files (hooks/, templates/) from its own location.
  define: { 'import.meta.url': '__gtModuleUrl' },
  banner: { js: "var __gtModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // These load their own files or workers at run time; they are never on the CLI's fast path.
  external: ['probot', '@slack/bolt', '@slack/*', 'pino', 'pino-*', 'thread-stream', 'smee-client', '@anthropic-ai/sdk'],
};

// What most commands run. src/cli/lazy.ts (the runner, the Mayor, classic zod: two thirds
// of the code) becomes a second file, required only by the commands that need it; without
// the dynamic imports esbuild also hoists every module into one scope instead of wrapping
// each in a lazy initialiser, which is most of what start-up cost.
await build({
  ...shared,
  entryPoints: ['src/cli/entry.ts'],
  outfile: 'dist/bundle/gt.cjs',
  // bin/gt.cjs runs this file as a vm.Script, where import() has no loader: require instead.
  supported: { 'dynamic-import': false },
  plugins: [noZodLocales(), lazyAsSibling(), ...['child_process', 'crypto', 'zlib', 'fs/promises'].map(lazyBuiltin)],
});

// `gt sync` alone (src/cli/sync-entry.ts): bin/gt.cjs runs this file for that command, so a
// sync, which the app's polecats and the Refinery run over and over, reads and initialises
// only what it needs.
await build({
  ...shared,
  entryPoints: ['src/cli/sync-entry.ts'],
  outfile: 'dist/bundle/gt-sync.cjs',
  supported: { 'dynamic-import': false },
  plugins: [noZodLocales(), ...['child_process', 'crypto', 'zlib', 'fs/promises'].map(lazyBuiltin)],
});

await build({
  ...shared,
  entryPoints: ['src/cli/lazy.ts'],
  outfile: 'dist/bundle/gt-lazy.cjs',
  plugins: [noZodLocales()],
});

/**
 * A node built-in loaded on first use instead of at start: the stand-in module has a getter
 * per export that requires the real module when first read (esbuild reads imports at the
 * call, `(0, mod.spawn)(...)`). For child_process (~2 ms to load, required at the top by
 * commander and by our git helpers): `gt bead update` never starts a process. Likewise
 * crypto (~3 ms; only sling, the workspace and the runner use it), zlib (~2 ms; object
 * reads) and fs/promises (~1 ms): `gt sync` with nothing to do loads none of the first two.
 */
function lazyBuiltin(name) {
  return {
    name: `lazy-${name}`,
    setup(b) {
      b.onResolve({ filter: new RegExp(`^(node:)?${name}$`) }, (args) =>
        args.namespace === 'gastown-lazy' ? { path: `node:${name}`, external: true } : { path: name, namespace: 'gastown-lazy' },
      );
      b.onLoad({ filter: /.*/, namespace: 'gastown-lazy' }, async (args) => {
        const keys = Object.keys(await import(`node:${args.path}`)).filter((k) => k !== 'default');
        return {
          contents: [
            'let real;',
            `for (const key of ${JSON.stringify(keys)})`,
            `  Object.defineProperty(module.exports, key, { enumerable: true, get: () => (real ??= require('node:${args.path}'))[key] });`,
          ].join('\n'),
          loader: 'js',
        };
      });
    },
  };
}

/** `import('./lazy.js')` in the main bundle loads the sibling file built from it. */
function lazyAsSibling() {
  return {
    name: 'lazy-as-sibling',
    setup(b) {
      b.onResolve({ filter: /^(\.\.?\/)+lazy\.js$/ }, (args) =>
        args.resolveDir.endsWith('src/cli') || args.resolveDir.endsWith('src/cli/commands')
          ? { path: './gt-lazy.cjs', external: true }
          : undefined,
      );
    },
  };
}

/**
 * zod's core re-exports every locale as a namespace (~260 KB the CLI never reads: it
 * configures English itself from zod/v4/locales/en.js). Inside the bundle that namespace
 * becomes an empty module.
 */
function noZodLocales() {
  return {
    name: 'no-zod-locales',
    setup(b) {
      b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
        args.importer.includes('/zod/v4/core/') ? { path: 'zod-locales-stub', namespace: 'gastown-stub' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'gastown-stub' }, () => ({ contents: 'export {};', loader: 'js' }));
    },
  };
}
