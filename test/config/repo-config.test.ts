import { describe, expect, it } from 'vitest';
import { loadEnvConfig } from '../../src/config/env-config.js';
import { defaultRepoConfig, loadRepoConfig, parseRepoConfig, repoConfigSchema } from '../../src/config/repo-config.js';
import { isGastownError } from '../../src/errors.js';

describe('repo config (.github/gastown.yml)', () => {
  it('builds its schema once per default model (zod compiles each schema on first use), and shares no parsed value', () => {
    expect(repoConfigSchema()).toBe(repoConfigSchema());
    expect(repoConfigSchema('claude-x')).toBe(repoConfigSchema('claude-x'));
    expect(repoConfigSchema('claude-x')).not.toBe(repoConfigSchema());
    expect(parseRepoConfig({}, 'claude-x').model).toBe('claude-x');
    const one = defaultRepoConfig();
    one.labels.mayor = 'changed';
    expect(defaultRepoConfig().labels.mayor).toBe('gastown:mayor');
  });

  it('has the documented defaults when the file is absent', () => {
    expect(defaultRepoConfig()).toEqual({
      labels: {
        mayor: 'gastown:mayor',
        bead: 'gastown:bead',
        ready: 'gastown:ready',
        blocked: 'gastown:blocked',
        failed: 'gastown:failed',
      },
      planner: 'model',
      model: 'claude-sonnet-4-6',
      maxBeads: 12,
      requireApproval: false,
      concurrency: 4,
      ledgerPrefix: 'refs/gastown/',
      closeParentOnLand: false,
      polecatWorkflow: 'gastown-polecat.yml',
      draftPullRequests: false,
      agents: { script: false },
      maxRevisions: 3,
    });
  });

  it('keeps unset fields at their defaults when some are set', () => {
    const config = parseRepoConfig({ labels: { mayor: 'plan-me' }, requireApproval: true, polecatEmailDomain: 'bots.example.com' }, 'm-1');

    expect(config.labels).toMatchObject({ mayor: 'plan-me', failed: 'gastown:failed' });
    expect(config).toMatchObject({ requireApproval: true, model: 'm-1', polecatEmailDomain: 'bots.example.com' });
  });

  it('takes a convoy budget in dollars or tokens, and refuses an increase or nonsense', () => {
    expect(parseRepoConfig({ budget: '$5, 200k' }).budget).toBe('$5, 200k');
    expect(parseRepoConfig({}).budget).toBeUndefined();
    expect(() => parseRepoConfig({ budget: '+$5' })).toThrow(/budget: must be an amount such as \$5, not an increase/);
    expect(() => parseRepoConfig({ budget: 'lots' })).toThrow(/budget: not a budget: "lots"/);
    expect(parseRepoConfig({ maxConvoyBudget: '$20' }).maxConvoyBudget).toBe('$20');
    expect(() => parseRepoConfig({ maxConvoyBudget: '+$5' })).toThrow(/maxConvoyBudget: must be an amount such as \$5, not an increase/);
  });

  it('lists every problem of an invalid file in one coded error', () => {
    const err = (() => {
      try {
        parseRepoConfig({ maxBeads: 51, concurrency: 0, planner: 'magic', ledgerPrefix: 'gastown', surprise: 1 });
      } catch (e) {
        return e;
      }
    })();

    expect(isGastownError(err, 'gastown_config')).toBe(true);
    const message = (err as Error).message;
    for (const field of ['maxBeads', 'concurrency', 'planner', 'ledgerPrefix', '(root)']) expect(message).toContain(`- ${field}: `);
  });

  it.each([
    ['refs/../../../escape/', 'must not contain ..'],
    ['refs/gastown/../x/', 'must not contain ..'],
    ['refs/.hidden/', 'no segment may start with .'],
    ['refs/x.lock/', 'no segment may end with .lock'],
    ['refs/a b/', 'must not contain spaces'],
    ['refs/a//b/', 'must not contain //'],
    ['refs/a@{b/', 'must not contain @{'],
    ['refs/gastown', 'must end with /'],
  ])('refuses the ledger prefix %j with a one-line reason', (ledgerPrefix, reason) => {
    const err = (() => {
      try {
        parseRepoConfig({ ledgerPrefix });
      } catch (e) {
        return e;
      }
    })();

    expect(isGastownError(err, 'gastown_config')).toBe(true);
    expect((err as Error).message).toContain(`- ledgerPrefix: ${reason}`);
  });

  it('takes ledger prefixes git accepts', () => {
    expect(parseRepoConfig({ ledgerPrefix: 'refs/heads/gastown-ledger/' }).ledgerPrefix).toBe('refs/heads/gastown-ledger/');
    expect(parseRepoConfig({ ledgerPrefix: 'refs/team.a/x.lock.y/' }).ledgerPrefix).toBe('refs/team.a/x.lock.y/');
  });

  it('loads through Probot-style context.config with the defaults, and validates the result', async () => {
    const seen: unknown[] = [];
    const context = {
      async config<T>(fileName: string, defaults?: T): Promise<T | null> {
        seen.push(fileName, defaults);
        return { ...(defaults as object), maxBeads: 3 } as T;
      },
    };

    const config = await loadRepoConfig(context, { defaultModel: 'env-model' });

    expect(seen[0]).toBe('gastown.yml');
    expect(seen[1]).toMatchObject({ model: 'env-model', maxBeads: 12 });
    expect(config).toMatchObject({ maxBeads: 3, model: 'env-model' });
  });

  it('turns unparsable YAML into a config error and lets HTTP errors through', async () => {
    const yamlError = { config: async () => Promise.reject(new Error('[@probot/octokit-plugin-config] could not parse')) };
    const httpError = { config: async () => Promise.reject(Object.assign(new Error('boom'), { status: 500 })) };

    const a = await loadRepoConfig(yamlError).catch((e: unknown) => e);
    const b = await loadRepoConfig(httpError).catch((e: unknown) => e);

    expect(isGastownError(a, 'gastown_config')).toBe(true);
    expect(isGastownError(b)).toBe(false);
  });
});

describe('env config', () => {
  it('applies defaults, including the git URL template', () => {
    const config = loadEnvConfig({});

    expect(config).toMatchObject({
      appId: null,
      hasPrivateKey: false,
      port: 3000,
      model: 'claude-sonnet-4-6',
      gitUrlTemplate: 'https://x-access-token:{token}@github.com/{owner}/{repo}.git',
      slack: null,
    });
  });

  it('reads the replica lease time GASTOWN_LEASE_TTL_MS (60 s by default), refusing nonsense', () => {
    expect(loadEnvConfig({}).leaseTtlMs).toBe(60_000);
    expect(loadEnvConfig({ GASTOWN_LEASE_TTL_MS: '5000' }).leaseTtlMs).toBe(5000);
    expect(() => loadEnvConfig({ GASTOWN_LEASE_TTL_MS: '10' })).toThrow(/GASTOWN_LEASE_TTL_MS: must be a number of milliseconds/);
    expect(() => loadEnvConfig({ GASTOWN_LEASE_TTL_MS: '1m' })).toThrow(/GASTOWN_LEASE_TTL_MS/);
  });

  it('reads how long a lease is kept after a burst, GASTOWN_LEASE_LINGER_MS (1 s by default, 0 for never)', () => {
    expect(loadEnvConfig({}).leaseLingerMs).toBe(1000);
    expect(loadEnvConfig({ GASTOWN_LEASE_LINGER_MS: '0' }).leaseLingerMs).toBe(0);
    expect(() => loadEnvConfig({ GASTOWN_LEASE_LINGER_MS: '-1' })).toThrow(/GASTOWN_LEASE_LINGER_MS: must be a number of milliseconds/);
  });

  it('reads how mirrors talk to an http(s) remote, GASTOWN_GIT_HTTP (in-process by default, or git)', () => {
    expect(loadEnvConfig({}).gitHttp).toBe('in-process');
    expect(loadEnvConfig({ GASTOWN_GIT_HTTP: 'git' }).gitHttp).toBe('git');
    expect(() => loadEnvConfig({ GASTOWN_GIT_HTTP: 'curl' })).toThrow(/GASTOWN_GIT_HTTP: must be 'in-process' \(the default\) or 'git'/);
  });

  it("reads the Deacon timer's period GASTOWN_DEACON_EVERY_MS (5 min by default, 0 for off), refusing nonsense", () => {
    expect(loadEnvConfig({}).deaconEveryMs).toBe(300_000);
    expect(loadEnvConfig({ GASTOWN_DEACON_EVERY_MS: '0' }).deaconEveryMs).toBe(0);
    expect(loadEnvConfig({ GASTOWN_DEACON_EVERY_MS: '1500' }).deaconEveryMs).toBe(1500);
    for (const bad of ['50', '5m', '-1', '1e6'])
      expect(() => loadEnvConfig({ GASTOWN_DEACON_EVERY_MS: bad })).toThrow(
        /^Invalid environment: GASTOWN_DEACON_EVERY_MS: must be a number of milliseconds, at least 100 \(0 turns the Deacon's timer off\)$/,
      );
  });

  it('takes the git URL from the GitHub Enterprise host Probot talks to, unless GASTOWN_GIT_URL says otherwise', () => {
    expect(loadEnvConfig({ GHE_HOST: 'ghe.example.com' }).gitUrlTemplate).toBe(
      'https://x-access-token:{token}@ghe.example.com/{owner}/{repo}.git',
    );
    expect(loadEnvConfig({ GHE_HOST: '127.0.0.1:8080', GHE_PROTOCOL: 'http' }).gitUrlTemplate).toBe(
      'http://x-access-token:{token}@127.0.0.1:8080/{owner}/{repo}.git',
    );
    expect(loadEnvConfig({ GHE_HOST: 'ghe.example.com', GASTOWN_GIT_URL: 'file:///srv/{owner}/{repo}.git' }).gitUrlTemplate).toBe(
      'file:///srv/{owner}/{repo}.git',
    );
    expect(() => loadEnvConfig({ GHE_PROTOCOL: 'ftp' })).toThrow(/GHE_PROTOCOL: must be http or https/);
  });

  it('reads the settings it is given and rejects a malformed port', () => {
    const config = loadEnvConfig({ APP_ID: '12', PRIVATE_KEY_PATH: 'k.pem', PORT: '8080', GASTOWN_MODEL: 'm', SLACK_BOT_TOKEN: 'xoxb-1' });

    expect(config).toMatchObject({ appId: '12', hasPrivateKey: true, port: 8080, model: 'm' });
    expect(config.slack?.botToken).toBe('xoxb-1');
    expect(() => loadEnvConfig({ PORT: 'eighty' })).toThrow(/PORT/);
  });
});
