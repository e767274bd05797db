// What the CLI bundle uses of `zod/mini`, without the namespace re-exports of every
// locale and the JSON-schema tooling that `zod/mini`'s index brings along (~400 KB that
// esbuild cannot shake out of `export * as`). Development and tests use the real package.
export * from '../node_modules/zod/v4/mini/parse.js';
export * from '../node_modules/zod/v4/mini/schemas.js';
export * from '../node_modules/zod/v4/mini/checks.js';
export { config } from '../node_modules/zod/v4/core/core.js';
