import { describe, expect, it } from 'vitest';
import { failingStepTail, redactSecrets } from '../../src/github/ci-log.js';

describe('failingStepTail (CI logs for a polecat)', () => {
  it('keeps the failing step, without ANSI escapes or timestamps, and caps lines and bytes', () => {
    const log = [
      '2026-01-02T03:04:05.1234567Z ##[group]Run actions/checkout@v4',
      '2026-01-02T03:04:05.2Z checked out',
      '2026-01-02T03:04:06.0Z ##[group]Run npm test',
      ...Array.from({ length: 200 }, (_, i) => `2026-01-02T03:04:07.0Z \u001b[32mok ${i}\u001b[0m`),
      '2026-01-02T03:04:08.0Z \u001b[31mFAIL add.test.ts: expected 3, got 4\u001b[0m',
      '2026-01-02T03:04:08.1Z ##[error]Process completed with exit code 1.',
    ].join('\r\n');

    const tail = failingStepTail(log, { maxLines: 10 });

    expect(tail.split('\n')).toHaveLength(11);
    expect(tail).not.toContain('checkout');
    expect(tail).not.toMatch(/\u001b|2026-01-02T/);
    expect(tail).toContain('FAIL add.test.ts: expected 3, got 4');
    expect(tail.endsWith('##[error]Process completed with exit code 1.')).toBe(true);
    expect(Buffer.byteLength(failingStepTail(log, { maxBytes: 200 }))).toBeLessThanOrEqual(204);
  });

  it('redacts what looks like a secret and keeps commit ids', () => {
    const text = [
      'token ghs_abcdefghijklmnopqrstuvwxyz0123',
      'ANTHROPIC_API_KEY=sk-ant-api03-abcdefghijklmnop',
      'password: hunter2',
      'Authorization: Bearer abcdefghijklmnopqrstuvwxyz',
      'git clone https://x-access-token:s3cr3t@github.com/a/b',
      'AKIAABCDEFGHIJKLMNOP',
      'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9abcdefghijKLMNOP1234',
      'at 0123456789abcdef0123456789abcdef01234567',
    ].join('\n');

    const out = redactSecrets(text);

    for (const secret of ['ghs_abc', 'sk-ant', 'hunter2', 'abcdefghijklmnopqrstuvwxyz', 's3cr3t', 'AKIAABCD', 'eyJhbGci'])
      expect(out).not.toContain(secret);
    expect(out).toContain('ANTHROPIC_API_KEY=[redacted]');
    expect(out).toContain('0123456789abcdef0123456789abcdef01234567');
  });
});
