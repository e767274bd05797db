/**
 * `bytes` random bytes as hex, for ids that must be unique, never secret (event, mail and
 * writer ids, id seeds; each is also collision-checked or joined with a time, pid or
 * counter). Math.random, which V8 seeds from the OS in every process, rather than
 * node:crypto: loading node:crypto (or the Web Crypto global, which loads it) costs a
 * short `gt` command about 2 ms of its start. Anything secret must use node:crypto.
 */
export function randomHex(bytes: number): string {
  let out = '';
  for (let i = 0; i < bytes; i++)
    out += Math.floor(Math.random() * 256)
      .toString(16)
      .padStart(2, '0');
  return out;
}
