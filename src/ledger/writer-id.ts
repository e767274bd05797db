import { randomHex } from '../random-hex.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * A stable id for this clone, so each clone writes its own feed chain (no single hot ref
 * shared by every machine).
 */
export function readWriterId(gitDir: string): string {
  const dir = join(gitDir, 'gastown');
  const file = join(dir, 'writer-id');
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (/^[a-z0-9-]{4,64}$/.test(id)) return id;
  } catch {
    /* first use */
  }
  mkdirSync(dir, { recursive: true });
  const host =
    hostname()
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 16) || 'host';
  const id = `${host}-${randomHex(3)}`;
  try {
    // 'wx' fails if the file exists: the first process to get here decides, others read it.
    writeFileSync(file, id, { flag: 'wx' });
    return id;
  } catch {
    return readFileSync(file, 'utf8').trim() || id;
  }
}
