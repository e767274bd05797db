#!/usr/bin/env node
// The `gt` command. Runs the compiled CLI from dist/ (built by `npm install` through the
// `prepare` script): starting TypeScript through a loader would cost more than most commands.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The bundle loads fastest; the plain compiled tree is the fallback.
const bundled = join(root, 'dist', 'bundle', 'gt.js');
const entry = existsSync(bundled) ? bundled : join(root, 'dist', 'cli', 'entry.js');
if (!existsSync(entry)) {
  process.stderr.write(`gt: ${entry} is missing: run \`npm install\` (or \`npm run build\`) in ${root}\n`);
  process.exit(1);
}
const { main } = await import(pathToFileURL(entry).href);
const code = await main(process.argv.slice(2));
// Exit as soon as output is flushed rather than waiting for the git helper processes we
// already told to stop (and any stray handle) to wind down: that wait was a third of a
// short command's time. `gt feed --follow` and `gt runner` never get here until done.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
