import { afterEach, expect, test } from 'vitest';
import { createBead, updateBead } from '../../src/rig/beads.js';
import { readFeed } from '../../src/rig/feed.js';
import { recordBeadIssue } from '../../src/rig/record-plan.js';
import { Rig } from '../../src/rig/rig.js';
import { sling, unsling } from '../../src/rig/sling.js';
import { initRepo, tempDir } from '../helpers/temp-repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

test('feed events of a bead mirrored on GitHub link to its issue (Slack renders the link)', async () => {
  const dir = tempDir('feed-links');
  cleanups.push(dir.cleanup);
  initRepo(dir.path);
  Rig.init(dir.path);
  const rig = await Rig.open({ repoDir: dir.path, actor: 'ada' });
  cleanups.push(() => rig.close());
  const bead = await createBead(rig, { title: 'Health check' });
  const url = 'https://github.com/acme/web/issues/12';

  await recordBeadIssue(rig, bead.id, { number: 12, id: 9012, url });
  await sling(rig, bead.id);
  await unsling(rig, bead.id);
  await updateBead(rig, bead.id, { priority: 0 });

  const events = await readFeed(rig);
  expect(events.map((e) => [e.type, e.url])).toEqual([
    ['bead_created', null], // before the issue existed
    ['bead_slung', url],
    ['bead_unslung', url],
    ['bead_updated', url],
  ]);
});
