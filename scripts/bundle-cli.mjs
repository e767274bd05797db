// Bundles the CLI into a few files under dist/bundle/. A `gt` process spends more time
// resolving and loading ~200 small ES modules (ours, zod's, commander's) than doing its
// work; one bundle cuts that, which is most of the difference on `gt bead update`.
// Heavy command groups stay in separate chunks loaded only when asked for.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist/bundle', { recursive: true, force: true });

await build({
  entryPoints: { gt: 'src/cli/entry.ts' },
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  minify: true,
  logLevel: 'warning',
  // These load their own files or workers at run time; they are never on the CLI's fast path.
  external: ['probot', '@slack/bolt', '@slack/*', 'pino', 'pino-*', 'thread-stream', 'smee-client', 'simple-git', '@anthropic-ai/sdk'],
  alias: { 'zod/mini': './scripts/zod-mini-slim.mjs' },
  plugins: [noZodLocales()],
  // CommonJS packages inside an ES module bundle still call require() for node built-ins.
  banner: { js: "import { createRequire as __gtCreateRequire } from 'node:module'; const require = __gtCreateRequire(import.meta.url);" },
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
