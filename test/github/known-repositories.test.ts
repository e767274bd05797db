/**
 * The repositories deliveries came for (src/github/known-repositories.ts): what the Deacon's
 * timer visits, kept on disk so a restarted replica still knows them.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { KnownRepositories, type KnownRepository } from '../../src/github/known-repositories.js';
import { tempDir } from '../helpers/temp-repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function scratch(): string {
  const dir = tempDir('known-repos');
  cleanups.push(dir.cleanup);
  return dir.path;
}

function capturedLog() {
  let text = '';
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _enc, done) {
        text += String(chunk);
        done();
      },
    }),
  );
  return { log, text: () => text };
}

const calc: KnownRepository = { owner: 'Acme', repo: 'Calc', installationId: 42, defaultBranch: 'main', prefix: 'refs/gastown/' };

describe('KnownRepositories', () => {
  it('keeps what deliveries recorded across a restart, one entry per repository whatever its case', () => {
    const file = join(scratch(), 'data', '.known-repositories.json');
    const first = new KnownRepositories(file);
    first.record(calc);
    first.record({ ...calc, owner: 'acme', repo: 'calc', installationId: 43 });
    first.record({ owner: 'acme', repo: 'web', installationId: 43, defaultBranch: 'trunk', prefix: 'refs/heads/gastown-ledger/' });

    const restarted = new KnownRepositories(file);

    expect(restarted.list()).toEqual([
      { owner: 'acme', repo: 'calc', installationId: 43, defaultBranch: 'main', prefix: 'refs/gastown/' },
      { owner: 'acme', repo: 'web', installationId: 43, defaultBranch: 'trunk', prefix: 'refs/heads/gastown-ledger/' },
    ]);
  });

  it('writes the file only when an entry changes', async () => {
    const file = join(scratch(), '.known-repositories.json');
    const known = new KnownRepositories(file);
    known.record(calc);
    const written = statSync(file).mtimeMs;
    await new Promise((r) => setTimeout(r, 30));

    known.record({ ...calc });
    expect(statSync(file).mtimeMs).toBe(written);

    known.record({ ...calc, defaultBranch: 'trunk' });
    expect(JSON.parse(readFileSync(file, 'utf8')).repositories[0].defaultBranch).toBe('trunk');
  });

  it('a damaged file or entry is left out with a warning, never fatal; the next delivery records anew', () => {
    const dir = scratch();
    const { log, text } = capturedLog();
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"repositories": [');
    expect(new KnownRepositories(broken, log).list()).toEqual([]);
    expect(text()).toContain('Could not read the known repositories');

    const partly = join(dir, 'partly.json');
    writeFileSync(partly, JSON.stringify({ repositories: [calc, { owner: 'acme', repo: 'x', installationId: 'nope' }] }));
    expect(new KnownRepositories(partly, log).list()).toEqual([calc]);
    expect(text()).toContain('Left out a damaged entry');

    const again = new KnownRepositories(broken, log);
    again.record(calc);
    expect(new KnownRepositories(broken).list()).toEqual([calc]);
  });

  it('a file that cannot be written costs a warning, and the entry stays known in memory', () => {
    const dir = scratch();
    // A file where its directory should be (root ignores permissions, so no chmod here).
    writeFileSync(join(dir, 'placeholder'), '');
    const { log, text } = capturedLog();
    const known = new KnownRepositories(join(dir, 'placeholder', '.known-repositories.json'), log);

    known.record(calc, log);

    expect(known.list()).toEqual([calc]);
    expect(text()).toContain('Could not write the known repositories');
  });
});
