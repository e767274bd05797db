import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RigSettings } from '../../src/rig/rig-settings.js';
import { git, tempDir } from '../helpers/temp-repo.js';
import { gtx } from './run-gt-lazy.js';
import './town-fixture.js'; // the product's git processes run without a developer's config

const SEED = ['-c', 'user.name=Seeder', '-c', 'user.email=seeder@test.local'];
const FALLBACK = 'refs/heads/gastown-ledger/';
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A clone of a bare remote whose main holds `.github/gastown.yml` with this text (none when null). */
function cloneWithConfig(config: string | null): { root: string; clone: string } {
  const dir = tempDir('ledger-prefix');
  cleanups.push(dir.cleanup);
  const remote = join(dir.path, 'remote.git');
  const clone = join(dir.path, 'rig');
  git(dir.path, ['init', '-q', '--bare', '-b', 'main', remote]);
  git(dir.path, ['clone', '-q', remote, clone]);
  git(clone, ['checkout', '-q', '-b', 'main']);
  writeFileSync(join(clone, 'README.md'), '# project\n');
  if (config !== null) writeConfig(clone, config);
  git(clone, ['add', '-A']);
  git(clone, [...SEED, 'commit', '-q', '-m', 'seed']);
  git(clone, ['push', '-q', 'origin', 'main']);
  return { root: dir.path, clone };
}

function writeConfig(clone: string, text: string): void {
  mkdirSync(join(clone, '.github'), { recursive: true });
  writeFileSync(join(clone, '.github', 'gastown.yml'), text);
}

const refsUnder = (clone: string, prefix: string) =>
  git(clone, ['for-each-ref', '--format=%(refname)', prefix]).split('\n').filter(Boolean);
const settingsOf = (clone: string) => JSON.parse(readFileSync(join(clone, '.git', 'gastown', 'rig.json'), 'utf8')) as RigSettings;

describe("the repository config's ledgerPrefix in the CLI", () => {
  it('gt init, gt bead and gt runner use it: the runner works on the ledger the app reads', async () => {
    const { clone } = cloneWithConfig(`# the host accepts only branches\nledgerPrefix: "${FALLBACK}"  # fallback\nconcurrency: 2\n`);

    const init = await gtx(clone, ['init', '--json']);
    const bead = JSON.parse(
      (await gtx(clone, ['bead', 'create', 'Say hi', '--body', '```sh\necho hi > hi.txt\n```', '--json'])).stdout,
    ) as { id: string };
    const ran = await gtx(clone, ['runner', '--until-idle']);

    expect(JSON.parse(init.stdout)).toMatchObject({ prefix: FALLBACK, prefixFrom: 'repo-config' });
    expect(ran.stdout).toMatch(/merged 1, landed 0, sent back 0, failed 0/);
    expect(refsUnder(clone, `${FALLBACK}beads/`)).toEqual([`${FALLBACK}beads/${bead.id}`]);
    expect(refsUnder(clone, 'refs/gastown/')).toEqual([]);
    const shown = JSON.parse((await gtx(clone, ['bead', 'show', bead.id, '--json'])).stdout) as { bead: { status: string } };
    expect(shown.bead.status).toBe('closed');
  });

  it('a rig made before the repository set ledgerPrefix follows it from the next open', async () => {
    const { clone } = cloneWithConfig(null);
    await gtx(clone, ['init']);
    writeConfig(clone, `ledgerPrefix: ${FALLBACK}\n`);

    const created = await gtx(clone, ['bead', 'create', 'After the move', '--json']);

    const id = (JSON.parse(created.stdout) as { id: string }).id;
    expect(refsUnder(clone, `${FALLBACK}beads/`)).toEqual([`${FALLBACK}beads/${id}`]);
    expect(settingsOf(clone)).toMatchObject({ prefix: 'refs/gastown/', prefixFrom: 'default' });
  });

  it('gt init --prefix wins over the repository config, and gt doctor says the app is on another ledger', async () => {
    const { clone } = cloneWithConfig(`ledgerPrefix: ${FALLBACK}\n`);

    await gtx(clone, ['init', '--prefix', 'refs/scratch/']);
    const created = JSON.parse((await gtx(clone, ['bead', 'create', 'Mine', '--json'])).stdout) as { id: string };
    const doctor = await gtx(clone, ['doctor', '--json']);

    expect(refsUnder(clone, 'refs/scratch/beads/')).toEqual([`refs/scratch/beads/${created.id}`]);
    expect(doctor.code).toBe(1);
    expect(JSON.parse(doctor.stdout)).toContainEqual({
      name: 'ledger prefix',
      ok: false,
      detail: `refs/scratch/ (gt init --prefix), but .github/gastown.yml gives the app ${FALLBACK}: the app works on another ledger`,
    });
  });

  it('a rig.json written before prefixFrom existed keeps a prefix a person chose', async () => {
    const { clone } = cloneWithConfig(`ledgerPrefix: ${FALLBACK}\n`);
    await gtx(clone, ['init']);
    const { prefixFrom: _, ...old } = { ...settingsOf(clone), prefix: 'refs/chosen/' };
    writeFileSync(join(clone, '.git', 'gastown', 'rig.json'), JSON.stringify(old));

    const created = JSON.parse((await gtx(clone, ['bead', 'create', 'Kept', '--json'])).stdout) as { id: string };

    expect(refsUnder(clone, 'refs/chosen/beads/')).toEqual([`refs/chosen/beads/${created.id}`]);
  });

  it('a ledgerPrefix line it cannot read is one line of error, not a second ledger', async () => {
    const { clone } = cloneWithConfig('ledgerPrefix: >-\n  refs/heads/gastown-ledger/\n');

    const init = await gtx(clone, ['init']);

    expect(init.code).not.toBe(0);
    expect(init.stderr).toMatch(/^gt: \.github\/gastown\.yml: write the ledger prefix as one line, `ledgerPrefix: refs\/<name>\/`/);
    expect(init.stderr.trim().split('\n')).toHaveLength(1);
  });
});
