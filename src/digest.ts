import { sha1 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';

export type DigestAlgo = 'sha1' | 'sha256';

/**
 * SHA-1 / SHA-256 of the concatenated parts. Pure JavaScript rather than node:crypto on
 * purpose: loading node:crypto costs a short `gt` command about 3 ms (a twentieth of its
 * whole run), and every hash the CLI makes is of a small git object or id. Bulk hashing
 * (a 10,000-bead import) is within a few tens of milliseconds of native.
 */
export function digest(algo: DigestAlgo, ...parts: (string | Uint8Array)[]): Uint8Array {
  const h = (algo === 'sha1' ? sha1 : sha256).create();
  for (const p of parts) h.update(typeof p === 'string' ? Buffer.from(p, 'utf8') : p);
  return h.digest();
}

export function hexDigest(algo: DigestAlgo, ...parts: (string | Uint8Array)[]): string {
  return Buffer.from(digest(algo, ...parts)).toString('hex');
}
