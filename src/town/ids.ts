import { hexDigest } from '../digest.js';
import { GastownError } from '../errors.js';

/** Characters of base36 a 256-bit digest yields once left-padded. */
const DIGEST_CHARS = 50;

/** Smallest k with 36^k > population, i.e. ceil(log36(population + 1)) without float error. */
function base36Digits(population: number): number {
  let k = 0;
  for (let room = 1; room <= population; room *= 36) k += 1;
  return k;
}

/** An endless, deterministic base36 stream from the seed, so growth never runs out. */
function* base36Stream(seed: string): Generator<string> {
  for (let block = 0; ; block++) {
    const hex = hexDigest('sha256', block === 0 ? seed : `${seed}\n${block}`);
    yield* BigInt(`0x${hex}`).toString(36).padStart(DIGEST_CHARS, '0');
  }
}

/**
 * `${prefix}-` plus a base36 hash of the seed: the same seed gives the same id on every
 * machine. Length starts at max(4, ceil(log36(population+1)) + 2), which keeps the chance of
 * a collision small as the rig grows, and grows by one character per collision until free.
 */
export function shortId(prefix: string, seed: string, taken: (id: string) => boolean, population: number): string {
  if (!/^[a-z][a-z0-9]*$/.test(prefix)) {
    throw new GastownError('gastown_bad_input', `bad id prefix "${prefix}": use lowercase letters and digits`, { prefix });
  }
  const length = Math.max(4, base36Digits(Math.max(0, Math.floor(population))) + 2);
  let body = '';
  for (const ch of base36Stream(seed)) {
    body += ch;
    if (body.length < length) continue;
    const id = `${prefix}-${body}`;
    if (!taken(id)) return id;
  }
  throw new Error('unreachable: base36Stream is infinite');
}

export function isBeadId(s: string): boolean {
  return /^gt-[0-9a-z]{4,}$/.test(s);
}

export function isConvoyId(s: string): boolean {
  return /^cv-[0-9a-z]{4,}$/.test(s);
}
