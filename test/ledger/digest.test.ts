import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, test } from 'vitest';
import { digest, hexDigest } from '../../src/digest.js';
import { randomHex } from '../../src/random-hex.js';
import { tempDir } from '../helpers/temp-repo.js';

const dirs = { sha1: tempDir('digest-sha1'), sha256: tempDir('digest-sha256') };
for (const [format, dir] of Object.entries(dirs)) execFileSync('git', ['init', '-q', `--object-format=${format}`, dir.path]);
afterAll(() => Object.values(dirs).forEach((d) => d.cleanup()));

describe('digest', () => {
  test('git object ids match git hash-object, for SHA-1 and SHA-256 repositories alike', () => {
    for (const content of ['hello', '', 'x'.repeat(100_000), randomBytes(70_000).toString('latin1')]) {
      const body = Buffer.from(content, 'latin1');
      for (const format of ['sha1', 'sha256'] as const) {
        const expected = execFileSync('git', ['hash-object', '--no-filters', '--stdin'], { cwd: dirs[format].path, input: body })
          .toString()
          .trim();
        expect(hexDigest(format, `blob ${body.length}\0`, body)).toBe(expected);
      }
    }
  });

  test('several parts hash as their concatenation, and agree with node:crypto', () => {
    const parts = ['a', Buffer.from([0, 1, 2, 255]), 'zé'];
    const whole = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
    expect(Buffer.from(digest('sha256', ...parts))).toEqual(createHash('sha256').update(whole).digest());
    expect(hexDigest('sha1', ...parts)).toBe(createHash('sha1').update(whole).digest('hex'));
  });
});

describe('randomHex', () => {
  test('gives the asked number of bytes as hex, different each time', () => {
    const ids = Array.from({ length: 1000 }, () => randomHex(8));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(new Set(ids).size).toBe(1000);
  });
});
