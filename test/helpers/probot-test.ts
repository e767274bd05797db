/** Probot pieces every GitHub-facing test uses: a generated key, no retries or throttling. */
import { generateKeyPairSync } from 'node:crypto';
import { pino } from 'pino';
import { ProbotOctokit } from 'probot';

export const API = 'https://api.github.com';

// Function form: the object form does not turn throttling off (TOOLCHAIN pitfall 1).
export const TestOctokit = ProbotOctokit.defaults((o: any) => ({
  ...o,
  retry: { enabled: false },
  throttle: { ...o.throttle, enabled: false },
}));

export const privateKey = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
}).privateKey;

export const silentLog = pino({ level: 'silent' });
