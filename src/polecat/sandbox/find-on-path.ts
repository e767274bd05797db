import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** The first executable `name` in the absolute directories of PATH, or null. */
export function findOnPath(name: string, PATH: string): string | null {
  for (const dir of PATH.split(path.delimiter)) {
    if (!dir || !path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}
