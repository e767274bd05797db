/**
 * The zod the fast paths use: `zod/mini`, the tree-shakable build. Classic zod is ~450 KB
 * of bundle that every `gt` process would parse before doing anything; mini is ~15 KB.
 * The English messages are configured once here (mini ships without a locale).
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

z.config(en());

export { z };
