// Bundles the CLI into one CommonJS file, dist/bundle/gt.cjs, which bin/gt.js loads through
// V8's code cache. A `gt` process used to spend more time resolving, reading and compiling
// ~200 small ES modules (ours, zod's, commander's) than doing its work: one file whose
// compiled code is cached cuts `gt bead update` from ~80 ms to ~50 ms (see bench:ledger).
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist/bundle', { recursive: true, force: true });

await build({
  entryPoints: ['src/cli/entry.ts'],
  outfile: 'dist/bundle/gt.cjs',
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
  plugins: [noZodLocales()],
  // These load their own files or workers at run time; they are never on the CLI's fast path
  // (the commands that use them require them only when run).
  external: ['probot', '@slack/bolt', '@slack/*', 'pino', 'pino-*', 'thread-stream', 'smee-client', 'simple-git', '@anthropic-ai/sdk'],
});

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
