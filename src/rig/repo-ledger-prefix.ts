import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { GastownError } from '../errors.js';

/** The repository config's default ledger prefix (src/config/repo-config.ts), the same for the app and the CLI. */
export const DEFAULT_LEDGER_PREFIX = 'refs/gastown/';

const LINE = /^ledgerPrefix:[ \t]*(?:"([^"]*)"|'([^']*)'|([^\s#'"]+))[ \t]*(?:#.*)?$/m;

/**
 * The ledger prefix `.github/gastown.yml` of the working tree around `dir` gives the app:
 * its `ledgerPrefix`, or the default when the file does not set one. Null outside a working
 * tree (a bare mirror). A line match, not a YAML parser: this runs when any `gt` command opens
 * the rig, and the key is one top-level scalar. A `ledgerPrefix` line the match cannot read
 * is an error rather than a silent second ledger.
 */
export function repoLedgerPrefix(dir: string): string | null {
  const root = workTreeRoot(dir);
  if (root === null) return null;
  let text: string;
  try {
    text = readFileSync(join(root, '.github', 'gastown.yml'), 'utf8');
  } catch {
    return DEFAULT_LEDGER_PREFIX;
  }
  return ledgerPrefixOf(text);
}

/** The ledger prefix a `.github/gastown.yml` text sets (the default when it sets none); also read from a bare clone's blob. */
export function ledgerPrefixOf(text: string): string {
  if (!/^ledgerPrefix\s*:/m.test(text)) return DEFAULT_LEDGER_PREFIX;
  const m = LINE.exec(text);
  const value = m ? (m[1] ?? m[2] ?? m[3])! : '';
  if (!/^refs\/([A-Za-z0-9._-]+\/)+$/.test(value))
    throw new GastownError(
      'gastown_config',
      `.github/gastown.yml: write the ledger prefix as one line, \`ledgerPrefix: refs/<name>/\` (got ${JSON.stringify(value || text.match(/^ledgerPrefix\s*:.*$/m)![0])})`,
    );
  return value;
}

/** The top of the working tree around `start` (the directory holding `.git`), or null. */
function workTreeRoot(start: string): string | null {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, '.git'))) return dir;
    // A bare repository has no working tree.
    if (existsSync(join(dir, 'HEAD')) && existsSync(join(dir, 'objects')) && statSync(join(dir, 'objects')).isDirectory()) return null;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}
