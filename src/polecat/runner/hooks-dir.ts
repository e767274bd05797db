import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The package's hooks/ directory (pre-push guard, commit-msg trailers). This file sits at
 * src/polecat/runner/ in a checkout and dist/polecat/runner/ in the package, both three
 * levels below the package root that holds hooks/.
 */
export function packageHooksDir(): string {
  const dir = fileURLToPath(new URL('../../../hooks', import.meta.url));
  if (!existsSync(`${dir}/pre-push`)) throw new Error(`gastown hooks not found at ${dir}: the package is incomplete`);
  return dir;
}
